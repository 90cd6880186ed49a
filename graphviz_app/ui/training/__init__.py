"""The Training dock: steps and runs, plots, devices and dtypes, the gradient check view."""
