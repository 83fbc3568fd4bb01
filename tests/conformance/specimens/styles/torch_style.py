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
