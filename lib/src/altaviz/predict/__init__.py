"""Predictive models: the sequence-RUL trainer (``sequence``) and the C-MAPSS benchmark (``cmapss``).

Keras and JAX come from the ``predict`` extra; importing this package does not import them.
"""
