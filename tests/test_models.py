import pytest
import torch
from torch import nn

from course_utils.models import MLP, count_parameters


def test_mlp_shape_and_parameter_count():
    model = MLP()
    assert count_parameters(model) == 13_002
    assert [tuple(l.weight.shape) for l in model.layers] == [(16, 784), (16, 16), (10, 16)]
    assert model(torch.rand(5, 1, 28, 28)).shape == (5, 10)
    assert model(torch.rand(5, 784)).shape == (5, 10)


def test_mlp_other_sizes_and_activation():
    model = MLP((784, 32, 32, 16, 10), activation=nn.ReLU)
    assert len(model.layers) == 4 and isinstance(model.activation, nn.ReLU)
    assert model(torch.rand(2, 784)).shape == (2, 10)


def test_mlp_rejects_bad_sizes_and_inputs():
    with pytest.raises(ValueError, match="positive ints"):
        MLP((784,))
    with pytest.raises(ValueError, match="784 values"):
        MLP()(torch.rand(3, 28, 27))


def test_simple_cnn_matches_the_guides_layers_and_counts():
    from course_utils.models import SimpleCNN

    model = SimpleCNN()
    assert tuple(model.conv1.weight.shape) == (16, 1, 3, 3) and tuple(model.conv2.weight.shape) == (32, 16, 3, 3)
    counts = {name: p.numel() for name, p in model.named_parameters()}
    assert counts["conv1.weight"] == 144 and counts["conv2.weight"] == 4_608  # the guide's two numbers
    assert counts["fc.weight"] == 32 * 7 * 7 * 10 and count_parameters(model) == 20_490
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert count_parameters(SimpleCNN((8, 16))) == 8 * 9 + 8 + 16 * 8 * 9 + 16 + 16 * 49 * 10 + 10


def test_advanced_cnn_shape_count_and_batchnorm():
    from course_utils.models import AdvancedCNN

    model = AdvancedCNN()
    assert count_parameters(model) == 38_458
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 4
    assert model(torch.rand(4, 1, 28, 28)).shape == (4, 10)
    model = model.to(memory_format=torch.channels_last)
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_fast_cnn_pools_before_normalising_and_counts_its_parameters():
    from course_utils.models import FastCNN

    model = FastCNN()
    assert count_parameters(model) == 75_450
    assert [list(dict(b.named_children())) for b in model.blocks] == [["conv", "pool", "norm", "relu"]] * 2 + [
        ["conv", "norm", "relu"], ["conv", "pool", "norm", "relu"], ["conv", "norm", "relu"]]
    assert all(isinstance(b.norm, nn.BatchNorm2d) and b.conv.bias is None for b in model.blocks)
    assert [b.conv.out_channels for b in model.blocks] == [16, 32, 32, 64, 64] and model.fc.in_features == 576
    x = torch.rand(4, 1, 28, 28)
    assert model(x).shape == (4, 10)
    assert model.block1(x).shape == (4, 16, 14, 14)          # pooled inside the block, before the norm
    assert model.to(memory_format=torch.channels_last)(x).shape == (4, 10)
    assert count_parameters(FastCNN((8, 16, 32))) == (9 * 8 + 9 * 8 * 16 + 9 * 16 * 16 + 9 * 16 * 32 + 9 * 32 * 32
                                                      + 2 * (8 + 16 + 16 + 32 + 32) + 32 * 9 * 10 + 10)


def test_fast_cnn_without_batch_norm_gives_each_convolution_its_bias():
    from course_utils.models import FastCNN

    plain = FastCNN(batch_norm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    assert all(isinstance(b.norm, nn.Identity) and b.conv.bias is not None for b in plain.blocks)
    # 2 per channel (BatchNorm's weight and bias) become 1 (the convolution's bias): 208 fewer
    assert count_parameters(FastCNN()) - count_parameters(plain) == 16 + 32 + 32 + 64 + 64
    assert plain(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_fast_cnn_checks_its_settings():
    from course_utils.models import FastCNN

    with pytest.raises(ValueError, match=r"three positive ints"):
        FastCNN((16, 32))
    with pytest.raises(ValueError, match="positive ints"):
        FastCNN((16, 0, 64))
    with pytest.raises(TypeError, match="batch_norm must be True or False"):
        FastCNN(batch_norm="no")


def test_cnns_explain_flat_input():
    from course_utils.models import AdvancedCNN, FastCNN, SimpleCNN

    for model in (SimpleCNN(), AdvancedCNN(), FastCNN()):
        with pytest.raises(ValueError, match=r"x.view\(-1, 1, 28, 28\)"):
            model(torch.rand(2, 784))


@pytest.mark.parametrize("name", ["MLP", "SimpleCNN", "AdvancedCNN", "FastCNN"])
def test_models_explain_wrong_input_types(name):
    from course_utils import models

    net = getattr(models, name)()
    with pytest.raises(TypeError, match=r"x.float\(\) / 255"):
        net(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(TypeError, match="torch.as_tensor"):
        net(torch.zeros(2, 1, 28, 28).numpy())


@pytest.mark.parametrize("name", ["SimpleCNN", "AdvancedCNN", "FastCNN"])
def test_cnns_refuse_images_of_another_size_before_the_dense_layer_does(name):
    from course_utils import models

    net = getattr(models, name)()
    with pytest.raises(ValueError, match="built for 28x28 images.*got 32x32"):
        net(torch.zeros(2, 1, 32, 32))
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize("side", [24, 27, 29, 31])
@pytest.mark.parametrize("name", ["SimpleCNN", "AdvancedCNN", "FastCNN"])
def test_cnns_refuse_sizes_that_pool_down_to_the_same_maps(name, side):
    from course_utils import models

    with pytest.raises(ValueError, match=f"built for 28x28 images.*got {side}x{side}; resize"):
        getattr(models, name)()(torch.zeros(2, 1, side, side))


def test_activation_may_be_a_class_or_an_instance_but_not_a_name():
    from course_utils.models import SimpleCNN

    assert isinstance(MLP(activation=nn.ReLU).activation, nn.ReLU)
    assert isinstance(MLP(activation=nn.Tanh()).activation, nn.Tanh)
    assert isinstance(SimpleCNN(activation=nn.Sigmoid).activation, nn.Sigmoid)
    with pytest.raises(TypeError, match="nn.ReLU"):
        MLP(activation="relu")


def test_eval_mode_restores_the_mode_it_found_even_after_an_error():
    from course_utils.models import eval_mode

    net = MLP().train()
    with pytest.raises(RuntimeError):
        with eval_mode(net):
            assert not net.training
            raise RuntimeError("inside")
    assert net.training
    with eval_mode(net.eval()):
        pass
    assert not net.training


def test_train_mode_restores_the_mode_it_found_even_after_an_error():
    from course_utils.models import train_mode

    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)).eval()
    with pytest.raises(RuntimeError):
        with train_mode(net):
            assert net.training and net[1].training
            raise RuntimeError("inside")
    assert not net.training and not net[1].training
    with train_mode(net.train()):
        pass
    assert net.training


@pytest.mark.parametrize("name", ["MLP", "SimpleCNN", "AdvancedCNN", "FastCNN"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_models_refuse_images_of_another_precision_naming_the_conversion(name, dtype):
    from course_utils import models

    net = getattr(models, name)()
    with pytest.raises(TypeError, match=rf"^{name}'s weights are float32 but the images are "
                                        rf"{str(dtype)[6:]}; .*convert the images with images.float\(\)"):
        net(torch.zeros(2, 1, 28, 28, dtype=dtype))
    assert net.double()(torch.zeros(2, 1, 28, 28, dtype=torch.float64)).dtype == torch.float64  # one precision: fine


@pytest.mark.parametrize("name", ["MLP", "SimpleCNN", "AdvancedCNN", "FastCNN"])
def test_models_refuse_an_empty_batch(name):
    from course_utils import models

    with pytest.raises(ValueError, match=rf"^{name} got an empty batch \(shape \[0, 1, 28, 28\]\): no images"):
        getattr(models, name)()(torch.zeros(0, 1, 28, 28))
