"""Two layers with plain tensors: autograd fills w1.grad and w2.grad; the update is by hand."""

import torch

torch.manual_seed(0)
x = torch.randn(16, 5)
y = torch.randn(16, 2)
w1 = torch.randn(5, 8, requires_grad=True)
w2 = torch.randn(8, 2, requires_grad=True)

learning_rate = 1e-3
for t in range(5):
    y_pred = x.mm(w1).clamp(min=0).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    print(t, round(loss.item(), 4))
    loss.backward()
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad
        w1.grad.zero_()
        w2.grad.zero_()
