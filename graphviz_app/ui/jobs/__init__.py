"""Work off the GUI thread: the session worker, its controller and the guard that
interrupts stuck jobs."""
