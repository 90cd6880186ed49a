"""Script mode in the window: a user's script paused at its backward calls, Next
backward, Run N, Stop, and the script's printed output."""
