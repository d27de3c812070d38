"""What every front end shares: status words, sentences and stable JSON shapes built from
service results. No terminal, no web framework: the CLI and the web draw what these say."""
