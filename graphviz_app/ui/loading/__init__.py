"""Opening model files: what to ask (trust, class, inputs, consent) and the dialogs that
ask it."""
