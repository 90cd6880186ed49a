"""Autograd at work: the forward recorder, capture of the grad_fn graph, structure-only
capture, the recorded backward and its chain rule."""
