"""Text written for the mini-web by its authors (no third-party text): site chrome, comments, ads,
headline patterns, self posts, and two encyclopedia-style articles for the Wikipedia-like mirror.

Article bodies come from public-domain books (see texts.py); everything a real site wraps around an
article comes from here, so boilerplate repeats across pages the way it does on the web.
"""

FIRST_NAMES = [
    "Alice", "Bernard", "Clara", "Daniel", "Edith", "Felix", "Grace", "Hugo", "Irene", "Jonah", "Katherine",
    "Leo", "Marta", "Nathan", "Olive", "Peter", "Quinn", "Rosa", "Simon", "Tessa", "Umar", "Vera", "Walter",
    "Yvonne", "Zachary", "Agnes", "Basil", "Cecily", "Desmond", "Eleanor",
]
LAST_NAMES = [
    "Abbott", "Barrow", "Caldwell", "Dunmore", "Ellery", "Fairweather", "Garnett", "Holloway", "Ingram",
    "Jessop", "Kettering", "Lowell", "Marsh", "Northcott", "Oakes", "Pemberton", "Quayle", "Radcliffe",
    "Sutton", "Thackeray", "Underhill", "Vance", "Whitlock", "Yardley", "Ashdown", "Blackmore", "Crane",
    "Delacroix", "Everard", "Fenwick",
]
USER_ADJECTIVES = [
    "quiet", "rusty", "salty", "lucky", "sleepy", "brave", "curious", "grumpy", "nimble", "stormy", "dusty",
    "mellow", "wandering", "electric", "paper", "velvet", "hollow", "northern", "midnight", "copper",
]
USER_NOUNS = [
    "otter", "lantern", "heron", "teapot", "harbour", "compass", "walrus", "sparrow", "anchor", "badger",
    "kettle", "comet", "thistle", "pilot", "quill", "marmot", "orchard", "ferry", "pebble", "raven",
]

# Reader comments: short, generic, and reused across pages (as real comment sections are).
COMMENTS = [
    "Great read, thanks for sharing this.",
    "I had no idea about any of this. Bookmarked for later.",
    "This is the kind of reporting I keep my subscription for.",
    "Not sure I agree with the conclusion, but the piece is well argued.",
    "Can someone explain the second half to me? I got lost somewhere in the middle.",
    "My grandfather used to tell stories just like this one.",
    "Long, but worth every minute.",
    "The headline is a bit misleading if you read the whole thing.",
    "Finally someone says it plainly.",
    "I read this twice and still find new things in it.",
    "Who edits these? There is a typo in the third paragraph.",
    "Sharing this with my book club tonight.",
    "First!",
    "This comment section is always better than the article.",
    "Beautifully written. More of this, please.",
    "I would love a follow-up piece on what happened next.",
    "Sounds a lot like my own town, honestly.",
    "The photo at the top is stunning. Who took it?",
    "I stopped reading halfway through, too slow for me.",
    "Does anyone have a link to the original source?",
    "Came here from Reddit. Glad I clicked.",
    "Same thing happened to my neighbour last year.",
    "You can tell the author really cares about the subject.",
    "Why is this only coming out now?",
    "Thank you for writing this. It helped me more than you know.",
    "I miss when the paper ran pieces like this every Sunday.",
    "Interesting, but where are the numbers?",
    "A rare article that made me put my phone down and think.",
    "Printed this out for my father, who refuses to read anything on a screen.",
    "The ending caught me completely off guard.",
    "Respectfully, this misses the bigger picture.",
    "Subscribed just to leave this comment: excellent work.",
    "Is there a version of this without the autoplaying video?",
    "Reminds me of a novel I read at school, but I cannot remember the title.",
    "The comments here are surprisingly civil today.",
    "I have lived there for twenty years and this is spot on.",
    "Please fix the cookie popup, it covers half the page on mobile.",
    "Well, that was unexpected.",
    "Sending this to everyone I know.",
    "Good piece, terrible headline.",
]
COMMENT_REPLIES = [
    "Agreed, completely.", "Ha, same here.", "Source?", "This, a hundred times.", "I think you misread it.",
    "Thanks, that clears it up.", "Fair point.", "Not really, read it again.",
]

FORUM_SIGNATURES = [
    "Currently reading: whatever is on top of the pile.",
    "Slow and steady gets the book finished.",
    "There are no stupid questions, only unread manuals.",
    "Member of the Tuesday night reading circle since 2008.",
    "If found, please return to the nearest library.",
    "Opinions are my own and frequently wrong.",
    "Tea first, then arguments.",
    "Proud owner of too many bookmarks.",
    "The map is not the territory, but it helps.",
    "Be kind, rewind.",
]
FORUM_QUICK_REPLIES = [
    "Bump. Anyone?", "Following this thread.", "Thanks, this helped.", "+1, same question here.",
    "Good find, thank you for posting.", "Ha, I was about to ask the same thing.",
]

SPONSORED = [
    "Doctors hate this one simple trick for better sleep",
    "You won't believe what this old lighthouse looks like today",
    "Homeowners are switching to this in record numbers",
    "The 12 most beautiful harbours you have never heard of",
    "This tiny gadget makes any room feel warmer",
    "Retirees are rediscovering this forgotten hobby",
    "Why everyone is talking about this new kind of tea",
    "15 photos that prove the past was stranger than we think",
    "Here is what a sea captain ate in a single week",
    "Locals are stunned by the price of these garden sheds",
]
AD_ALT = ["Advertisement", "Sponsored", "Ad", "Promoted"]

TICKER = [
    "Harbour authority extends winter timetable",
    "Storm warning issued for the northern coast",
    "Library reopens after two-year restoration",
    "City council delays vote on new tram line",
    "Record crowds at the annual kite festival",
    "Bridge closed overnight for inspection",
    "Museum returns borrowed paintings to owners",
    "Ferry services resume after fog",
]

COOKIE_BANNER = {
    "en": ("We use cookies and similar technologies to personalise content and ads, to provide social media "
           "features and to analyse our traffic. By continuing to use this site you agree to our use of cookies.",
           "Accept all", "Manage preferences"),
    "fr": ("Nous utilisons des cookies pour personnaliser le contenu et les annonces, et pour analyser notre "
           "trafic. En poursuivant votre navigation, vous acceptez leur utilisation.",
           "Tout accepter", "Paramétrer"),
    "de": ("Wir verwenden Cookies, um Inhalte und Anzeigen zu personalisieren und die Zugriffe auf unsere "
           "Website zu analysieren. Wenn Sie die Seite weiter nutzen, stimmen Sie der Verwendung zu.",
           "Alle akzeptieren", "Einstellungen"),
    "es": ("Utilizamos cookies para personalizar el contenido y los anuncios y para analizar nuestro tráfico. "
           "Si continúa navegando, acepta su uso.", "Aceptar todo", "Configurar"),
}

NEWSLETTER = [
    ("Get the morning briefing", "Our editors' picks, delivered to your inbox every weekday before breakfast."),
    ("Never miss a story", "Sign up for the weekly round-up of our most read articles."),
    ("The long read, weekly", "One essay worth your time, every Saturday morning. Unsubscribe at any time."),
]

# Headline patterns; {a} and {b} are names found in the article's own text.
HEADLINES = {
    "news": [
        "{a} Breaks Silence Over {b}", "What {a} Knew, and When", "The Trouble With {a}",
        "{a} and {b}: A Town Takes Sides", "Questions Mount Over {a}", "Inside the Quiet Rise of {a}",
        "{a} Returns, and Nothing Is the Same", "Why {a} Still Divides {b}", "The Long Week of {a}",
        "{a} Speaks Out on {b}", "How {a} Changed the Conversation", "A Closer Look at {a} and {b}",
        "{a} Under Pressure as {b} Waits", "Neighbours Remember {a}", "The Unlikely Alliance of {a} and {b}",
    ],
    "blog": [
        "Some thoughts on {a}", "Weekend notes: {a} and {b}", "On {a}, again", "Why I keep coming back to {a}",
        "A letter I never sent to {a}", "Reading diary: {a}", "Things I learned from {a}",
        "{a}, {b}, and a rainy Tuesday", "Notes from a long walk with {a}", "Unpopular opinion: {a}",
    ],
    "forum": [
        "Thoughts on {a}?", "[Discussion] {a} and {b}", "Anyone else stuck on the part with {a}?",
        "Question about {a}", "{a} vs {b}: who had it right?", "Just finished the chapter with {a}",
        "Is {a} the most underrated character?", "Help me understand {a}", "Re-reading {a}, spoilers inside",
    ],
    "essay": [
        "The Long Shadow of {a}", "In Praise of {a}", "Against {a}", "{a} and the Art of Waiting",
        "What We Owe to {a}", "The Education of {a}", "{a}: A Reconsideration", "Letters to {a}",
        "After {a}", "The Patience of {a} and {b}",
    ],
}
DEKS = [
    "The story of {a} has more twists than anyone expected, and {b} is only the beginning.",
    "For weeks, {a} said nothing. Now the silence has been broken.",
    "A close reading of events that left {b} talking for months.",
    "Behind the headlines, {a} tells a quieter and stranger story.",
    "Few people saw it coming, least of all {a}.",
    "Our correspondent spent a season following {a} and {b}.",
]
CAPTIONS = [
    "The view from the harbour wall at dusk.", "A quiet street on an ordinary morning.",
    "Visitors gather outside the old assembly rooms.", "The garden as it looks today.",
    "An archive photograph, date unknown.", "Boats wait for the tide to turn.",
]
UPDATE_NOTES = [
    "Update: This article has been updated to correct the spelling of a name and to add a response received "
    "after publication.",
    "Correction: An earlier version of this story misstated a date. It has been corrected, and a comment from "
    "a spokesperson has been added.",
    "Editor's note: This story was revised after publication with additional reporting.",
]
# Small edits for "updated" copies of an article: (word, replacement) pairs tried in order.
EDITS = [
    (" said ", " remarked "), (" very ", " quite "), (" little ", " small "), (" great ", " large "),
    (" could ", " might "), (" little ", " slight "), (" thought ", " believed "), (" saw ", " noticed "),
    (" but ", " yet "), (" there ", " then "),
]

SECTIONS = {"world": "World", "science": "Science", "business": "Business", "culture": "Culture"}
BLOG_AUTHORS = [
    ("marsh", "Tessa Marsh", "Field Notes", "Walking, reading and writing about both, mostly on the coast."),
    ("holloway", "Hugo Holloway", "The Slow Reader", "One chapter a day, whether I like it or not."),
    ("ingram", "Irene Ingram", "Margins", "Things I scribbled beside the text, tidied up a little."),
    ("quayle", "Desmond Quayle", "Low Tide", "A notebook kept by a retired harbour pilot."),
]
BLOG_TAGS = ["reading", "walking", "notes", "books", "weather", "the sea", "friends", "letters", "rain",
             "history", "long reads", "family"]
FORUM_BOARDS = [
    ("books", "Books & Reading", "Talk about what you are reading, what you finished and what you gave up on."),
    ("history", "History Corner", "Questions and answers about the past, big and small."),
    ("offtopic", "Off Topic", "Everything else. Be nice."),
]

# Self posts (text on Reddit itself; a self post's URL points back to reddit.com).
SELF_POSTS = [
    ("What is the best book you read this year and why?", "Mine was a slow one that took me all winter. "
     "I am curious what everyone else spent their evenings on."),
    ("TIL my town had a lighthouse keeper until 1989", "Found this out at the library today. Does anyone "
     "know how long lighthouses kept human keepers in other places?"),
    ("Ask: how do you keep a reading habit going?", "I used to read every night and lost the habit. Tips?"),
    ("Meta: can we have a weekly discussion thread?", "It would keep the front page tidier."),
    ("I finally finished a book I started ten years ago", "It was worth it. No spoilers, but the last chapter "
     "made the whole thing make sense."),
    ("Recommendations for long novels set at sea?", "I have a long holiday coming up and want something big."),
    ("Does anyone else read the ending first?", "My partner thinks this is a crime. I think it is efficient."),
    ("What happened to the old reading room downtown?", "It closed a few months ago and nobody seems to know why."),
    ("Looking for a story I read as a kid", "A detective who was also a priest, small and round, with an "
     "umbrella. Any ideas?"),
    ("Unpopular opinion: audiobooks count", "Reading is reading, whatever your eyes are doing."),
    ("Weekly thread: what are you reading?", "Share your current book and one sentence about it."),
    ("PSA: the library card also gets you museum passes", "At least in our city. Check yours."),
    ("Help identifying an old map", "It shows a harbour and a church on a hill, no names. Photos in the comments."),
    ("Why do old novels have such long chapters?", "Genuinely curious whether it was a printing thing."),
    ("I started a book club at work and it is going well", "Eight people so far. Any advice for month two?"),
]

PRODUCTS = [
    ("Brass Ship's Lantern", "49.00", "A hand-finished brass lantern with a glass chimney. Hangs or stands.",
     ["Height: 32 cm", "Weight: 1.2 kg", "Material: brass, glass"]),
    ("Oilskin Reading Jacket", "89.50", "Waterproof, wind-proof, and big enough pockets for a paperback.",
     ["Sizes: S to XXL", "Colour: mustard", "Machine washable at 30 degrees"]),
    ("Pocket Compass, Walnut Case", "24.00", "A liquid-filled compass in a turned walnut case.",
     ["Diameter: 5 cm", "Comes with a linen pouch"]),
    ("Set of Four Enamel Mugs", "18.00", "Chip-resistant enamel mugs in harbour colours.",
     ["Capacity: 350 ml each", "Dishwasher safe"]),
    ("Linen Bookmark Bundle", "6.50", "Twelve linen bookmarks, block printed by hand.",
     ["Length: 18 cm", "Assorted prints"]),
    ("Tide Table Wall Calendar", "12.00", "Twelve months of tide times for the northern coast.",
     ["Size: A3", "Printed on recycled paper"]),
]
PRODUCT_REVIEWS = ["Lovely quality, arrived quickly.", "Smaller than I expected.", "Bought two, one as a gift.",
                   "Five stars, would buy again.", "Does exactly what it says."]

LEGAL = {
    "about": ("About us", "{site} is an independent publication founded by a handful of people who like to "
              "read and write. We are funded by our readers and a small amount of advertising."),
    "privacy": ("Privacy policy", "We collect as little information about you as we can. We use cookies to "
                "remember your preferences and to count visits. We never sell your data."),
    "contact": ("Contact", "Write to us at the address below. We read everything, and we answer most things."),
}
UNDER_CONSTRUCTION = "This page is under construction. Please come back soon!"
TEST_POST = "Test post, please ignore."

# Charset probes: sentences of our own with non-ASCII letters, put into the mis-declared pages so a
# test can tell whether they were decoded right ("Café Müller" vs "CafÃ© MÃ¼ller").
CHARSET_NOTES = [
    "Editor’s note: this essay was first read aloud at the Café Müller, a naïve little room with a "
    "crumbling façade, in the winter of 1998.",
    "Señora Pérez, who kept the reading room, served crème brûlée to anyone who finished a chapter aloud.",
]

FRENCH_CHROME = {"home": "Accueil", "sections": ["International", "Culture", "Société", "Idées"],
                 "related": "À lire aussi", "share": "Partager", "by": "Par la rédaction",
                 "footer": "Tous droits réservés. Reproduction interdite sans autorisation."}
GERMAN_CHROME = {"home": "Startseite", "sections": ["Politik", "Kultur", "Gesellschaft", "Meinung"],
                 "related": "Mehr zum Thema", "share": "Teilen", "by": "Von der Redaktion",
                 "footer": "Alle Rechte vorbehalten. Nachdruck nur mit Genehmigung."}
SPANISH_BLOG = ("Notas en la orilla", "Hoy copio aquí unos artículos que leí en voz alta en el taller de "
                "los jueves. Me parecieron dignos de compartir.")

# Two encyclopedia-style articles, written for this sample in the manner of a Wikipedia article, for the
# mirror host that the clean stage's Wikipedia-copy filter should catch.
WIKI_ARTICLES = [
    {
        "title": "Moby-Dick",
        "hatnote": "This article is about the 1851 novel. For other uses, see Moby Dick (disambiguation).",
        "infobox": [("Author", "Herman Melville"), ("Country", "United States"), ("Language", "English"),
                    ("Genre", "Adventure fiction, epic"), ("Published", "1851"), ("Media type", "Print")],
        "lead": [
            "Moby-Dick; or, The Whale is an 1851 novel by the American writer Herman Melville. The book is "
            "narrated by a sailor who calls himself Ishmael and follows the voyage of the whaling ship Pequod, "
            "whose captain, Ahab, is determined to hunt down a white sperm whale that once took his leg.[1] "
            "The novel mixes adventure narrative with long passages on the natural history of whales, the "
            "practice of whaling, philosophy and religion.",
            "The novel sold poorly during Melville's lifetime and was out of print when he died in 1891.[2] Its "
            "reputation grew during the twentieth century, when critics came to regard it as one of the most "
            "important works of American literature. Its opening sentence is among the best known in the "
            "language.",
        ],
        "sections": [
            ("Plot", [
                "Ishmael travels to New Bedford and then to Nantucket, where he signs on to the Pequod with a "
                "harpooner named Queequeg, whom he befriended at an inn. The ship sails on Christmas Day. Ahab "
                "does not appear on deck for several days; when he does, he nails a gold coin to the mast and "
                "promises it to the first man who sights the white whale.[3]",
                "During the long voyage the Pequod meets other ships, each of which has its own encounter with "
                "the whale to report. The crew hunts and processes many whales, and the narrative pauses for "
                "chapters on their anatomy and on the work of the ship. The final three chapters describe a "
                "chase lasting three days, at the end of which the ship is sunk and Ishmael alone survives.",
            ]),
            ("Themes", [
                "Scholars have read the novel as a study of obsession, of the limits of human knowledge, and of "
                "the relation between people and the natural world.[4] The mixture of styles, from sermon to "
                "stage directions to encyclopedic catalogue, has been discussed as an experiment in form.",
            ]),
            ("Reception", [
                "Early reviews in Britain and the United States were mixed, and several complained that the book "
                "was hard to classify. Interest revived in the 1920s, after which the novel was widely taught "
                "and adapted for the stage, radio, film and television.[5]",
            ]),
        ],
        "references": ["Parker, Hershel (1996). Herman Melville: A Biography.",
                       "Delbanco, Andrew (2005). Melville: His World and Work.",
                       "Bryant, John, ed. (1986). A Companion to Melville Studies.",
                       "Levine, Robert S., ed. (1998). The Cambridge Companion to Herman Melville.",
                       "Inge, M. Thomas (1986). Melville in Popular Culture."],
        "categories": ["1851 American novels", "Novels by Herman Melville", "Nautical fiction",
                       "Novels set on ships"],
        "oldid": "812345678",
    },
    {
        "title": "Persuasion (novel)",
        "hatnote": "This article is about the novel. For the act of persuading, see Persuasion.",
        "infobox": [("Author", "Jane Austen"), ("Country", "United Kingdom"), ("Language", "English"),
                    ("Genre", "Novel of manners"), ("Published", "December 1817"), ("Publisher", "John Murray")],
        "lead": [
            "Persuasion is the last novel completed by the English writer Jane Austen. It was published at the "
            "end of 1817, about six months after her death, together with Northanger Abbey.[1] The story "
            "concerns Anne Elliot, a young woman who eight years earlier was persuaded to break off her "
            "engagement to a naval officer, Frederick Wentworth, because he had neither fortune nor rank.",
            "The novel is noted for its autumnal tone, its sympathetic portrait of the navy, and its attention "
            "to the way time changes people's circumstances and feelings.[2] It is shorter than most of "
            "Austen's other novels and was written while she was already ill.",
        ],
        "sections": [
            ("Plot summary", [
                "Anne's father, Sir Walter Elliot, has spent beyond his means, and the family lets its country "
                "house to an admiral and his wife. The admiral's wife is the sister of Captain Wentworth, who has "
                "returned from the war with a fortune. Anne and Wentworth meet again in company, where he "
                "treats her with cool politeness while paying attention to other young women.[3]",
                "A fall on the sea wall at Lyme, the family's removal to Bath, and the arrival of a cousin who "
                "is heir to the estate bring matters to a head. A letter written by Wentworth during a "
                "conversation in a crowded room finally resolves the misunderstanding between them.",
            ]),
            ("Composition", [
                "Austen began the novel in 1815 and finished a first version in the summer of 1816. She "
                "rewrote the ending; the cancelled chapters survive in manuscript and are the only substantial "
                "draft material of her novels to do so.[4]",
            ]),
            ("Adaptations", [
                "The novel has been adapted several times for television and film, and for radio and the "
                "stage.[5]",
            ]),
        ],
        "references": ["Le Faye, Deirdre (2003). Jane Austen: The World of Her Novels.",
                       "Tomalin, Claire (1997). Jane Austen: A Life.",
                       "Southam, B. C. (1964). Jane Austen's Literary Manuscripts.",
                       "Todd, Janet, ed. (2005). Jane Austen in Context.",
                       "Troost, Linda; Greenfield, Sayre, eds. (1998). Jane Austen in Hollywood."],
        "categories": ["1817 British novels", "Novels by Jane Austen", "Novels set in Bath, Somerset"],
        "oldid": "809876543",
    },
]
# What gives the mirror's pages away: strings in their HTML, and strings that survive in the text an
# extractor such as trafilatura takes from them (section edit links and citation marks).
WIKI_MARKERS = {
    "html": ["From Wikipedia, the free encyclopedia", 'Retrieved from "<a dir="ltr" href="https://en.wikipedia.org/',
             '<meta name="generator" content="MediaWiki', '<link rel="canonical" href="https://en.wikipedia.org/wiki/',
             'class="mw-parser-output"'],
    "text": ["[edit]", "[1]"],
}
