"""A recorded backward pass as pictures show it: which node runs, which are done or
waiting and for how many gradients, the gradient labels and fills (window, exports,
notebook walk-throughs)."""
