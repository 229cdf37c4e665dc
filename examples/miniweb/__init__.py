"""The webtext demo's mini-web: a small offline web of public-domain text that `make demo` crawls.

generate.build_miniweb(out_dir, port, seed) writes it (pages, routes, submissions, manifest);
serve.serve(site_dir, port) serves it on 127.0.0.1. See README.md.
"""
