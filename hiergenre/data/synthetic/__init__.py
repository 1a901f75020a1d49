"""The embedded synthetic corpus: a renderer, genre styles and the deep 30-variant taxonomy."""
