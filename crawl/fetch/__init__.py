"""The Scrapy layer of the crawl: spider, middlewares, DNS resolver and the process entry point.

Runs only inside the crawl's own Scrapy process (`python -m crawl.fetch.run JOB.json`), started by
crawl/stage.py: Twisted's reactor cannot be restarted inside one process.
"""
