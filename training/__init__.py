"""Training code for rppg-sdk: models, losses and metrics, data, training and architecture search.

Nothing in the runtime SDK (``rppg_sdk``) imports this package; this package imports
``rppg_sdk`` for what the two share (the spectral core used to read heart rates).
"""
