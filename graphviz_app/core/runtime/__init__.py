"""Where and how torch runs: devices and dtypes, torch's thread count, cooperative
cancellation."""
