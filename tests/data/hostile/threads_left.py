"""Starts a thread that never ends (not a daemon), then calls backward."""

import threading

import torch

stop = threading.Event()
threading.Thread(target=stop.wait, name="left behind").start()
w = torch.ones(3, requires_grad=True)
(w * 2).sum().backward()
