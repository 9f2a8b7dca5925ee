"""The MLP is built as configured (widths, activation, dropout, initialisation), and its losses."""

import pytest
import torch
from torch import nn

from {{ cookiecutter.package }}.model import mlp
from {{ cookiecutter.package }}.model.dropout import Dropout
from {{ cookiecutter.package }}.model.layers import ACTIVATIONS, INITIALISATIONS
from {{ cookiecutter.package }}.model.losses import build_loss
from {{ cookiecutter.package }}.model.quantile_loss import QuantileLoss


def test_lecture_network_has_497_parameters():
    net = mlp.MLP(input_size=29, output_size=1, hidden_sizes=[16])
    assert sum(p.numel() for p in net.parameters()) == (29 * 16 + 16) + (16 + 1)
    assert net(torch.zeros(5, 29)).shape == (5, 1)


def test_no_hidden_layer_is_a_linear_model():
    net = mlp.MLP(input_size=29, output_size=1, hidden_sizes=[])
    assert [type(layer) for layer in net.layers] == [nn.Linear]


def test_layers_follow_hidden_sizes_activation_and_dropout():
    net = mlp.MLP(8, 3, hidden_sizes=[32, 16], activation="tanh", dropout=0.25)
    linears = [layer for layer in net.layers if isinstance(layer, nn.Linear)]
    assert [(lin.in_features, lin.out_features) for lin in linears] == [(8, 32), (32, 16), (16, 3)]
    assert sum(isinstance(layer, nn.Tanh) for layer in net.layers) == 2
    assert [layer.p for layer in net.layers if isinstance(layer, nn.Dropout)] == [0.25, 0.25]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_name_is_a_torch_activation(name):
    net = mlp.MLP(4, 1, hidden_sizes=[8], activation=name)
    assert type(net.layers[1]).__name__ == ACTIVATIONS[name]
    assert net.layers[1].__module__.startswith("torch.nn")


@pytest.mark.parametrize("init", sorted(set(INITIALISATIONS) - {"default"}))
def test_initialisation_changes_weights_and_zeroes_biases(init):
    torch.manual_seed(0)
    default = mlp.MLP(input_size=8, output_size=1, hidden_sizes=[16])
    torch.manual_seed(0)
    chosen = mlp.MLP(input_size=8, output_size=1, hidden_sizes=[16], init=init)
    first_default, first_chosen = default.layers[0], chosen.layers[0]
    assert not torch.equal(first_default.weight, first_chosen.weight)
    assert torch.count_nonzero(first_chosen.bias) == 0


def test_quantile_loss_is_the_pinball_loss():
    target = torch.tensor([1.0, 1.0])
    prediction = torch.tensor([0.0, 3.0])  # one under by 1, one over by 2
    assert QuantileLoss(0.9)(prediction, target).item() == pytest.approx((0.9 * 1 + 0.1 * 2) / 2)
    assert QuantileLoss(0.5)(prediction, target).item() == pytest.approx(0.75)


def test_quantile_loss_is_minimised_by_the_quantile():
    target = torch.arange(101.0)
    candidates = torch.arange(101.0)
    losses = [QuantileLoss(0.9)(c.expand(101), target).item() for c in candidates]
    assert candidates[losses.index(min(losses))] == 90


def test_loss_settings_become_tensors_where_torch_wants_them():
    bce = build_loss({"_target_": "torch.nn.BCEWithLogitsLoss", "pos_weight": 3.0})
    assert torch.equal(bce.pos_weight, torch.tensor(3.0))
    weighted = build_loss(
        {"_target_": "torch.nn.CrossEntropyLoss", "weight": [1.0, 2.0], "label_smoothing": 0.1}
    )
    assert torch.equal(weighted.weight, torch.tensor([1.0, 2.0]))
    assert weighted.label_smoothing == 0.1
    assert (
        build_loss({"_target_": "torch.nn.BCEWithLogitsLoss", "pos_weight": None}).pos_weight
        is None
    )


def test_compiled_network_keeps_the_checkpoint_parameter_names():
    from {{ cookiecutter.package }}.model.module import TabularModule

    def module(compile_network: bool) -> TabularModule:
        return TabularModule(
            input_size=4,
            task="binary",
            num_classes=2,
            model={
                "_target_": "{{ cookiecutter.package }}.model.mlp.MLP",
                "hidden_sizes": [8],
                "compile": compile_network,
            },
            loss={"_target_": "torch.nn.BCEWithLogitsLoss", "trains": {"binary": "logit"}},
            optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
        )

    assert module(True).state_dict().keys() == module(False).state_dict().keys()


def test_regression_predictions_are_held_in_range_but_the_loss_sees_every_value():
    from {{ cookiecutter.package }}.model.module import TabularModule

    def module(held: list[float] | None) -> TabularModule:
        return TabularModule(
            input_size=2,
            task="regression",
            num_classes=None,
            model={
                "_target_": "{{ cookiecutter.package }}.model.mlp.MLP",
                "hidden_sizes": [],
            },
            loss={"_target_": "torch.nn.MSELoss", "trains": {"regression": "values"}},
            optimizer={"_target_": "torch.optim.Adam", "_partial_": True},
            prediction_range=held,
        )

    outputs = torch.tensor([[-5.0], [0.5], [7.0]], requires_grad=True)
    assert module([-1.0, 2.0]).predict_scores(outputs).tolist() == [-1.0, 0.5, 2.0]
    assert module(None).predict_scores(outputs).tolist() == [-5.0, 0.5, 7.0]
    # Trained on the unclipped values: the rows beyond the range still pass a gradient back.
    module([-1.0, 2.0])._loss(outputs, torch.zeros(3)).backward()
    assert outputs.grad.ravel().tolist() == pytest.approx([2 * -5.0 / 3, 2 * 0.5 / 3, 2 * 7.0 / 3])


def test_cpu_dropout_drops_at_rate_p_and_keeps_the_expected_value():
    torch.manual_seed(0)
    layer = Dropout(0.3)
    features = torch.ones(400, 500)
    dropped = layer(features)
    assert (dropped == 0).float().mean().item() == pytest.approx(0.3, abs=0.005)
    assert dropped.mean().item() == pytest.approx(1.0, abs=0.01)
    # every 16-bit lane of the random words is used: each column drops at the same rate
    by_column = (dropped == 0).float().mean(dim=0)
    assert by_column.min().item() > 0.2 and by_column.max().item() < 0.4
    assert not torch.equal(dropped, layer(features)), "a fresh mask every call"


def test_cpu_dropout_is_the_identity_in_evaluation_and_its_gradient_follows_the_mask():
    layer = Dropout(0.5)
    features = torch.randn(64, 32, requires_grad=True)
    assert torch.equal(layer.eval()(features), features)
    layer.train()
    dropped = layer(features)
    dropped.sum().backward()
    assert torch.equal(features.grad, (dropped != 0).float() * 2.0)
    assert torch.equal(Dropout(1.0)(features), torch.zeros_like(features))


def test_dropout_at_zero_passes_its_input_on_while_training():
    layer = Dropout(0.0)
    features = torch.randn(64, 32, requires_grad=True)
    assert layer.training
    assert layer(features) is features  # as torch's own dropout returns it
    assert nn.functional.dropout(features, 0.0, training=True) is features
    layer.p = 0.4  # a dropout schedule raising it: the mask is back
    assert (layer(features) == 0).any()


def test_networks_use_the_cpu_dropout_that_the_schedules_reach():
    net = mlp.MLP(8, 1, hidden_sizes=[16, 16], dropout=0.2)
    dropouts = [layer for layer in net.modules() if isinstance(layer, nn.Dropout)]
    assert len(dropouts) == 2 and all(isinstance(layer, Dropout) for layer in dropouts)
