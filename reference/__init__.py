"""bpverify's numpy reference for backpropagation, as Nielsen's ch. 2 states it.

Conventions (the book's): ``weights[i]`` has shape (n_l, n_{l−1}) and ``biases[i]``
(n_l, 1) for layer l = i + 2 (the input layer is layer 1); an example is a column
(n, 1); a mini-batch is a matrix whose columns are examples; float64 by default.
Runtime dependencies: numpy, and scipy for the fast sigmoid (``scipy.special.expit``).
"""

from bpverify.reference import activations, costs
from bpverify.reference.activations import (
    Activation,
    PerNeuron,
    identity,
    relu,
    sigmoid,
    softplus,
    tanh,
)
from bpverify.reference.backpropagation import BackpropResult, backprop, backprop_loop, backprop_matrix
from bpverify.reference.costs import Cost, cross_entropy, quadratic
from bpverify.reference.equations import (
    bp1_output_error,
    bp2_backpropagate,
    bp3_bias_gradient,
    bp4_weight_gradient,
    feedforward_layers,
)
from bpverify.reference.gradient_descent import sgd, sgd_step, update_mini_batch
from bpverify.reference.network import Network
from bpverify.reference.numerical import (
    directional_derivative,
    flatten,
    numerical_gradient,
    numerical_network_gradient,
    unflatten,
)
from bpverify.reference.paths import gradient_by_paths, path_count
from bpverify.reference.sigma_prime import backprop_sigma_prime, delta_closed_form, sigma_prime_matrix

__all__ = [
    "Activation", "BackpropResult", "Cost", "Network", "PerNeuron", "activations",
    "backprop", "backprop_loop", "backprop_matrix", "backprop_sigma_prime", "bp1_output_error",
    "bp2_backpropagate", "bp3_bias_gradient", "bp4_weight_gradient", "costs", "cross_entropy",
    "delta_closed_form", "directional_derivative", "feedforward_layers", "flatten",
    "gradient_by_paths", "identity", "numerical_gradient", "numerical_network_gradient",
    "path_count", "quadratic", "relu", "sgd", "sgd_step", "sigma_prime_matrix", "sigmoid",
    "softplus", "tanh", "unflatten", "update_mini_batch",
]
