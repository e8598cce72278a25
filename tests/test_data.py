"""course_utils.data: torchvision datasets and preloaded tensors from the verified files."""
import pytest
import torch

from course_utils import data, mnist_files as mf


def test_datasets_and_tensors_agree(tmp_path, tiny_mnist):
    mf.ensure_mnist(tmp_path, sources=[tiny_mnist["source"]])
    ds = data.mnist_dataset(train=False, root=tmp_path)
    images, labels = data.mnist_tensors(train=False, root=tmp_path)
    assert len(ds) == 20 and images.shape == (20, 1, 28, 28) and images.dtype == torch.float32
    assert torch.equal(ds[3][0], images[3]) and ds[3][1] == labels[3].item()
    assert 0.0 <= images.min() and images.max() <= 1.0


def test_split_must_be_a_bool(tmp_path):
    with pytest.raises(TypeError, match="train must be True"):
        data.mnist_tensors(train="test", root=tmp_path)


def test_tensor_batches_cover_every_sample_once_per_epoch():
    x, y = torch.arange(10).float().view(10, 1), torch.arange(10)
    batches = data.TensorBatches(x, y, batch_size=4, generator=torch.Generator().manual_seed(0))
    assert len(batches) == 3
    seen = torch.cat([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(10))
    assert [len(yb) for _, yb in batches] == [4, 4, 2]
    assert all(torch.equal(xb.view(-1).long(), yb) for xb, yb in batches)
    second = torch.cat([yb for _, yb in batches])
    assert not torch.equal(seen, second)  # a new order every epoch


def test_tensor_batches_repeat_with_the_same_seed_and_respect_drop_last():
    x, y = torch.randn(10, 3), torch.arange(10)
    order = lambda: torch.cat([yb for _, yb in data.TensorBatches(x, y, 3, generator=torch.Generator().manual_seed(5))])
    assert torch.equal(order(), order())
    assert len(data.TensorBatches(x, y, 3, drop_last=True)) == 3
    assert torch.equal(torch.cat([yb for _, yb in data.TensorBatches(x, y, 4, shuffle=False)]), y)


def test_tensor_batches_reject_bad_input():
    with pytest.raises(ValueError, match="same length"):
        data.TensorBatches(torch.zeros(3, 2), torch.zeros(4))
    with pytest.raises(ValueError, match="positive int"):
        data.TensorBatches(torch.zeros(3, 2), torch.zeros(3), batch_size=0)


def test_tensor_batches_from_numpy_arrays_say_how_to_convert():
    import numpy as np

    with pytest.raises(TypeError, match=r"images must be a torch.Tensor, got ndarray; convert with "
                                        r"torch.as_tensor\(images\)"):
        data.TensorBatches(np.zeros((3, 784), np.float32), torch.zeros(3, dtype=torch.long))
    with pytest.raises(TypeError, match=r"labels must be a torch.Tensor, got ndarray; convert with "
                                        r"torch.as_tensor\(labels\)"):
        data.TensorBatches(torch.zeros(3, 784), np.zeros(3, np.int64))
