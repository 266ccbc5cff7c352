"""Answer SPARQL queries safely: check them (``guard``), run them in killable workers (``runner``), describe the service (``description``).

Nothing here imports Flask; ``docket.serve.sparql`` speaks the HTTP protocol on top.
"""
