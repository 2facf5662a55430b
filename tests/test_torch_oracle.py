"""Optional: cnnlib against PyTorch, the library whose conventions it follows.

PyTorch is never needed to use or test cnnlib; these tests run only where it
is installed (``pip install torch==2.13.0``, the CPU build) and are skipped
otherwise. Everything is compared in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import cnnlib as c

torch = pytest.importorskip("torch", reason="PyTorch is not installed (optional oracle: pip install torch==2.13.0)")
F = torch.nn.functional


def t(a: np.ndarray) -> "torch.Tensor":
    return torch.tensor(np.asarray(a, dtype=np.float64))


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), ((2, 1), (1, 2)), (1, "same")])
def test_conv2d_forward_and_backward(rng, stride, padding):
    x = rng.normal(size=(2, 3, 7, 6))
    w = rng.normal(size=(4, 3, 3, 2))
    b = rng.normal(size=4)
    layer = c.Conv2d(3, 4, (3, 2), stride=stride, padding=padding).astype(np.float64)
    layer.params["W"][...] = w
    layer.params["b"][...] = b
    y = layer.forward(x)
    dy = rng.normal(size=y.shape)
    dx = layer.backward(dy)

    xt = t(x).requires_grad_()
    wt = t(w).requires_grad_()
    bt = t(b).requires_grad_()
    yt = F.conv2d(xt, wt, bt, stride=stride, padding=padding)  # "same" (stride 1): extra row/col at the end, as ours
    yt.backward(t(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], wt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], bt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_edge_padding_is_torch_replicate(rng):
    x = rng.normal(size=(1, 2, 5, 4))
    w = rng.normal(size=(3, 2, 3, 3))
    ours = c.conv2d(x, w, padding=1, pad_mode="edge")
    theirs = F.conv2d(F.pad(t(x), (1, 1, 1, 1), mode="replicate"), t(w))
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10)


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 1, 1), (3, 2, 1), ((2, 3), (1, 2), (1, 1))])
def test_max_pool_including_ties(rng, kernel, stride, padding):
    # Rounded values make ties common; both libraries must route to the same (first) maximum.
    x = np.round(rng.normal(size=(2, 3, 7, 8)), 0)
    layer = c.MaxPool2d(kernel, stride, padding)
    y = layer.forward(x)
    dy = rng.normal(size=y.shape)
    dx = layer.backward(dy)
    xt = t(x).requires_grad_()
    yt = F.max_pool2d(xt, kernel, stride if stride is not None else kernel, padding)
    yt.backward(t(dy))
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_avg_pool(rng):
    x = rng.normal(size=(2, 3, 7, 8))
    np.testing.assert_allclose(c.avg_pool2d(x, 3, 2, 1), F.avg_pool2d(t(x), 3, 2, 1).numpy(), rtol=1e-12)


def test_batchnorm2d_training_eval_and_running_statistics(rng):
    ours = c.BatchNorm2d(3).astype(np.float64)
    theirs = torch.nn.BatchNorm2d(3).double()
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    ours.params["gamma"][...] = gamma
    ours.params["beta"][...] = beta
    with torch.no_grad():
        theirs.weight.copy_(t(gamma))
        theirs.bias.copy_(t(beta))
    for _ in range(4):
        x = rng.normal(2.0, 3.0, size=(5, 3, 4, 6))
        xt = t(x).requires_grad_()
        y = ours.forward(x, training=True)
        theirs.train()
        yt = theirs(xt)
        dy = rng.normal(size=y.shape)
        dx = ours.backward(dy)
        yt.backward(t(dy))
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours.grads["gamma"], theirs.weight.grad.numpy(), rtol=1e-10)
        theirs.weight.grad = None
        theirs.bias.grad = None
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)
    x = rng.normal(size=(2, 3, 4, 6))
    theirs.eval()
    np.testing.assert_allclose(ours.forward(x, training=False), theirs(t(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_cross_entropy_with_large_logits(rng):
    z = rng.normal(size=(6, 10)) * 1e4
    y = rng.integers(0, 10, size=6)
    loss = c.CrossEntropyLoss()
    zt = t(z).requires_grad_()
    lt = F.cross_entropy(zt, torch.tensor(y))
    lt.backward()
    assert loss.forward(z, y) == pytest.approx(lt.item(), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), zt.grad.numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("make", [
    lambda p: (c.SGD(p[0], lr=0.1, momentum=0.9, weight_decay=0.01), torch.optim.SGD(p[1], lr=0.1, momentum=0.9, weight_decay=0.01)),
    lambda p: (c.Adam(p[0], lr=0.01), torch.optim.Adam(p[1], lr=0.01)),
    lambda p: (c.Adam(p[0], lr=0.01, weight_decay=0.1), torch.optim.Adam(p[1], lr=0.01, weight_decay=0.1)),
], ids=["sgd-momentum-wd", "adam", "adam-wd"])
def test_optimizer_steps(rng, make):
    ours = c.Linear(4, 3).astype(np.float64)
    theirs = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        theirs.weight.copy_(t(ours.params["W"]))
        theirs.bias.copy_(t(ours.params["b"]))
    opt_ours, opt_theirs = make((ours, theirs.parameters()))
    for _ in range(5):
        gW, gb = rng.normal(size=(3, 4)), rng.normal(size=3)
        ours.grads = {"W": gW, "b": gb}
        theirs.weight.grad, theirs.bias.grad = t(gW), t(gb)
        opt_ours.step()
        opt_theirs.step()
    np.testing.assert_allclose(ours.params["W"], theirs.weight.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.params["b"], theirs.bias.detach().numpy(), rtol=1e-12)


def test_whole_reference_network_forward_backward(rng):
    ours = c.mnist_cnn(seed=0).astype(np.float64)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.BatchNorm2d(16), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.BatchNorm2d(32), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 10),
    ).double()
    names = {"0.W": "0.weight", "0.b": "0.bias", "1.gamma": "1.weight", "1.beta": "1.bias",
             "4.W": "4.weight", "4.b": "4.bias", "5.gamma": "5.weight", "5.beta": "5.bias",
             "9.W": "9.weight", "9.b": "9.bias"}
    with torch.no_grad():
        for k, v in ours.params.items():
            dict(theirs.named_parameters())[names[k]].copy_(t(v))
    x = rng.random((8, 1, 28, 28))
    y = rng.integers(0, 10, size=8)
    loss = c.CrossEntropyLoss()
    l_ours = loss.forward(ours.forward(x), y)
    ours.backward(loss.backward())
    l_theirs = F.cross_entropy(theirs(t(x)), torch.tensor(y))
    l_theirs.backward()
    assert l_ours == pytest.approx(l_theirs.item(), rel=1e-10)
    grads = dict(theirs.named_parameters())
    for k, g in ours.grads.items():
        np.testing.assert_allclose(g, grads[names[k]].grad.numpy(), rtol=1e-7, atol=1e-10, err_msg=k)


@pytest.mark.parametrize("shape", [(2, 4, 3, 5), (3, 3, 6), (2, 3, 2, 3, 2)], ids=["NCHW", "NCL", "NCDHW"])
@pytest.mark.parametrize("target", ["classes", "probabilities"])
def test_cross_entropy_per_pixel(rng, shape, target):
    # PyTorch's "K-dimensional case": class axis 1, the mean over every position
    z = rng.normal(scale=2.0, size=shape)
    if target == "classes":
        y = rng.integers(0, shape[1], size=(shape[0], *shape[2:]))
        yt = torch.tensor(y)
    else:
        y = np.moveaxis(rng.dirichlet(np.ones(shape[1]), size=(shape[0], *shape[2:])), -1, 1)
        yt = t(y)
    loss = c.CrossEntropyLoss()
    zt = t(z).requires_grad_()
    lt = torch.nn.CrossEntropyLoss()(zt, yt)
    lt.backward()
    assert loss.forward(z, y) == pytest.approx(lt.item(), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), zt.grad.numpy(), rtol=1e-10, atol=1e-15)
