"""The backward pass step by step: the stepper and its panel, Run menu controls, the walk-
through export."""
