"""A PyTorch model as a user writes one, plugged in with the helper (for bpverify's tests)."""

from __future__ import annotations

import torch

from bpverify.conformance.protocol.frameworks import TorchModule


def build(sizes):
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Sigmoid()]
    return torch.nn.Sequential(*layers)


def sgd(parameters, eta):
    return torch.optim.SGD(parameters, lr=eta)


implementation = TorchModule(build, loss=torch.nn.MSELoss(), optimizer=sgd)


def build_tanh_hidden(sizes):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Sigmoid() if last else torch.nn.Tanh()]
    return torch.nn.Sequential(*layers)


tanh_hidden = TorchModule(build_tanh_hidden, loss=torch.nn.MSELoss(reduction="sum"),
                          optimizer=sgd)


def build_per_layer(sizes):
    """tanh, relu, tanh, ... in the hidden layers, sigmoid out: σ differs from layer to layer."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        hidden = torch.nn.ReLU() if i % 2 else torch.nn.Tanh()
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Sigmoid() if last else hidden]
    return torch.nn.Sequential(*layers)


per_layer = TorchModule(build_per_layer, loss=torch.nn.MSELoss(), optimizer=sgd)


class Momentum(torch.optim.SGD):
    """A planted bug: momentum in the step (shows only from the second step on)."""

    def __init__(self, parameters, lr):
        super().__init__(parameters, lr=lr, momentum=0.9)


with_momentum = TorchModule(build, loss=torch.nn.MSELoss(), optimizer=Momentum)


def build_classifier(sizes):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)  # logits: CrossEntropyLoss applies the softmax


classifier = TorchModule(build_classifier, loss=torch.nn.CrossEntropyLoss(), optimizer=sgd)


class Functional(torch.nn.Module):
    """The commonest style: Linear layers in the module, σ called in forward (tanh, relu, then
    softplus, sigmoid out): nothing but the Linear layers is a submodule."""

    def __init__(self, sizes):
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(n_in, n_out)
                                          for n_in, n_out in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        functions = [torch.tanh, torch.nn.functional.relu, torch.nn.functional.softplus]
        for i, layer in enumerate(self.layers[:-1]):
            x = functions[i % len(functions)](layer(x))
        return torch.sigmoid(self.layers[-1](x))


functional = TorchModule(Functional, loss=torch.nn.MSELoss(), optimizer=sgd)


def with_activation(make):
    """A build function with ``make()`` after every Linear layer."""
    def build(sizes):
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [torch.nn.Linear(n_in, n_out), make()]
        return torch.nn.Sequential(*layers)
    return build


softplus_default = TorchModule(with_activation(torch.nn.Softplus), loss=torch.nn.MSELoss(),
                               optimizer=sgd)
softplus_beta_threshold = TorchModule(
    with_activation(lambda: torch.nn.Softplus(beta=2, threshold=5)), loss=torch.nn.MSELoss(),
    optimizer=sgd)


class Swish(torch.nn.Module):
    """A custom activation module (no registry line needed): z·σ(z), read as silu."""

    def forward(self, z):
        return z * torch.sigmoid(z)


custom_module = TorchModule(with_activation(Swish), loss=torch.nn.MSELoss(), optimizer=sgd)


class SigmoidWithSigmaForSigmaPrime(torch.autograd.Function):
    """A planted bug: σ(z) forward, but a backward that multiplies by σ(z) for σ′(z)."""

    @staticmethod
    def forward(ctx, z):
        a = torch.sigmoid(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * a


class WrongBackward(torch.nn.Module):
    def forward(self, z):
        return SigmoidWithSigmaForSigmaPrime.apply(z)


wrong_backward = TorchModule(with_activation(WrongBackward), loss=torch.nn.MSELoss(),
                             optimizer=sgd)


class TanhTimesZ(torch.nn.Module):
    """z·tanh(z): an activation bpverify does not know (TorchModule refuses it, naming the
    declaration)."""

    def forward(self, z):
        return z * torch.tanh(z)
