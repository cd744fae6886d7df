"""Jobflow layer: thin ``@job`` s over the screening library, ``Maker`` s and the campaign file."""
