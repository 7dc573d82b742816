"""Tests for tinynet.optim: SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam.

The PyTorch trajectories in REFERENCE were printed by
tools/reference_optimizers.py (torch 2.13 CPU, float64): two parameters take
5 steps on a fixed quadratic whose gradient is A * (p - C).
"""

import numpy as np
import pytest

from tinynet.gradcheck import numerical_gradient
from tinynet.layers import Convolution
from tinynet.optim import (
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    Momentum,
    Nesterov,
    Optimizer,
    RMSProp,
    is_bias,
    make_optimizer,
)


def make_params(rng):
    """Non-zero parameters and gradients with TinyNet's names and shapes."""
    shapes = {
        "W_conv1": (3, 1, 3, 3), "b_conv1": (3,),
        "W_conv2": (4, 3, 3, 3), "b_conv2": (4,),
        "W_fc": (16, 5), "b_fc": (5,),
    }
    params = {name: rng.normal(0, 1, shape) for name, shape in shapes.items()}
    grads = {name: rng.normal(0, 1, shape) for name, shape in shapes.items()}
    return params, grads


@pytest.mark.parametrize(
    "learning_rate, weight_decay", [(0.1, 0.0), (0.05, 0.01), (1.0, 0.5), (0.0, 0.3)]
)
def test_step_equals_formula(learning_rate, weight_decay):
    rng = np.random.default_rng(0)
    params, grads = make_params(rng)
    before = {k: v.copy() for k, v in params.items()}
    SGD(learning_rate, weight_decay).step(params, grads)
    for name, p in params.items():
        expected = before[name] - learning_rate * (grads[name] + weight_decay * before[name])
        np.testing.assert_allclose(p, expected, rtol=1e-14, atol=1e-15, err_msg=name)


def test_step_updates_in_place_and_leaves_grads_alone():
    rng = np.random.default_rng(1)
    params, grads = make_params(rng)
    ids = {name: id(p) for name, p in params.items()}
    grads_before = {k: v.copy() for k, v in grads.items()}
    layer = Convolution(params["W_conv1"], params["b_conv1"])
    W_before = layer.W.copy()
    SGD(0.1, 0.01).step(params, grads)
    assert {name: id(p) for name, p in params.items()} == ids
    # a layer holding a reference sees the update
    assert layer.W is params["W_conv1"]
    assert not np.array_equal(layer.W, W_before)
    for name in grads:
        np.testing.assert_array_equal(grads[name], grads_before[name], err_msg=name)


def test_step_in_place_keeps_float32():
    rng = np.random.default_rng(2)
    params, grads = make_params(rng)
    params = {k: v.astype(np.float32) for k, v in params.items()}
    expected = {k: v - np.float32(0.1) * (grads[k] + 0.01 * v) for k, v in params.items()}
    SGD(0.1, 0.01).step(params, grads)
    for name, p in params.items():
        assert p.dtype == np.float32
        np.testing.assert_allclose(p, expected[name], rtol=1e-6, atol=1e-6, err_msg=name)


def test_decay_biases_false_leaves_bias_gradient_undecayed():
    rng = np.random.default_rng(3)
    params, grads = make_params(rng)
    params["b"] = rng.normal(size=2)
    grads["b"] = rng.normal(size=2)
    before = {k: v.copy() for k, v in params.items()}
    learning_rate, weight_decay = 0.2, 0.1
    optimizer = SGD(learning_rate, weight_decay, decay_biases=False)
    optimizer.step(params, grads)
    for name, p in params.items():
        if name.startswith("b"):
            assert not optimizer.decays(name)
            expected = before[name] - learning_rate * grads[name]
        else:
            assert optimizer.decays(name)
            expected = before[name] - learning_rate * (grads[name] + weight_decay * before[name])
        np.testing.assert_allclose(p, expected, rtol=1e-14, atol=1e-15, err_msg=name)


def test_is_bias_names():
    assert is_bias("b") and is_bias("b_fc") and is_bias("b_conv1")
    assert is_bias("beta_1") and is_bias("gamma_2")
    assert not is_bias("W_fc") and not is_bias("beta") and not is_bias("bias_like")
    assert not is_bias("W_1") and not is_bias("gammas")


@pytest.mark.parametrize("decay_biases", [True, False])
def test_penalty_is_half_lambda_sum_of_squares(decay_biases):
    rng = np.random.default_rng(4)
    params, _ = make_params(rng)
    weight_decay = 0.03
    expected = 0.5 * weight_decay * sum(
        np.sum(p ** 2) for name, p in params.items() if decay_biases or not name.startswith("b_")
    )
    assert SGD(0.1, weight_decay, decay_biases).penalty(params) == pytest.approx(
        expected, rel=1e-12
    )
    nothing = SGD(0.1, 0.0, decay_biases).penalty(params)
    assert nothing == 0.0 and isinstance(nothing, float)


@pytest.mark.parametrize("decay_biases", [True, False])
def test_weight_decay_adds_the_gradient_of_the_penalty(decay_biases):
    """The extra step term is exactly the numerical gradient of the penalty."""
    rng = np.random.default_rng(5)
    params, grads = make_params(rng)
    learning_rate, weight_decay = 0.1, 0.2
    optimizer = SGD(learning_rate, weight_decay, decay_biases)
    plain = {k: v.copy() for k, v in params.items()}
    decayed = {k: v.copy() for k, v in params.items()}
    SGD(learning_rate, 0.0).step(plain, grads)
    optimizer.step(decayed, grads)
    probe = {k: v.copy() for k, v in params.items()}
    for name in params:
        added = (plain[name] - decayed[name]) / learning_rate  # what weight decay added to g
        np.testing.assert_allclose(
            added, weight_decay * params[name] if optimizer.decays(name) else 0.0,
            rtol=1e-12, atol=1e-13, err_msg=name,
        )
        numeric = numerical_gradient(lambda: optimizer.penalty(probe), probe[name])
        np.testing.assert_allclose(added, numeric, rtol=1e-6, atol=1e-8, err_msg=name)
    for name in params:  # numerical_gradient restores what it perturbs
        np.testing.assert_array_equal(probe[name], params[name])


def test_step_rejects_mismatched_grads():
    rng = np.random.default_rng(6)
    params, grads = make_params(rng)
    del grads["b_fc"]
    with pytest.raises(ValueError, match=r"grads is missing gradients for \['b_fc'\]"):
        SGD().step(params, grads)
    params, grads = make_params(rng)
    grads["W_fc"] = grads["W_fc"].T
    with pytest.raises(
        ValueError, match=r"grads\['W_fc'\] has shape \(5, 16\) but the parameter has \(16, 5\)"
    ):
        SGD().step(params, grads)


def test_constructor_rejects_bad_arguments():
    with pytest.raises(ValueError, match="learning_rate must be >= 0"):
        SGD(learning_rate=-1)
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        SGD(weight_decay=-0.1)
    with pytest.raises(TypeError, match="learning_rate must be a real number"):
        SGD(learning_rate="0.1")
    with pytest.raises(ValueError, match="learning_rate must be finite"):
        SGD(learning_rate=float("nan"))
    with pytest.raises(TypeError, match="decay_biases must be True or False"):
        SGD(decay_biases="no")

# -- PyTorch reference trajectories ----------------------------------------

# printed with torch 2.13.0+cpu
REFERENCE = [
    (
        "momentum",
        {"learning_rate": 0.05, "momentum": 0.9},
        [
            {
                "W": [
                    [0.425, -0.3499999999999999, 1.99],
                    [0.045000000000000005, 0.7675000000000001, 1.0],
                ],
                "b": [0.12000000000000001, -0.693, -0.21250000000000002],
            },
            {
                "W": [
                    [0.28624999999999995, 0.84, 1.97105],
                    [0.64875, 0.7065625000000001, 0.5499999999999999],
                ],
                "b": [0.156, -0.67977, -0.6456250000000001],
            },
            {
                "W": [
                    [0.09706249999999991, 1.741, 1.94413975],
                    [1.3948125, 0.6215546875000001, 0.5950000000000001],
                ],
                "b": [0.2028, -0.6610653, -1.1240312500000003],
            },
            {
                "W": [
                    [-0.12805937500000011, 1.9314, 1.91019982625],
                    [2.157046875, 0.5170087890625, 1.0405000000000002],
                ],
                "b": [0.25464000000000003, -0.6376204169999999, -1.5235890625000001],
            },
            {
                "W": [
                    [-0.3742660937500001, 1.38706, 1.87010289574375],
                    [2.81950078125, 0.3974922607421875, 1.40095],
                ],
                "b": [0.30583200000000005, -0.61014381813, -1.752293828125],
            },
        ],
    ),
    (
        "momentum",
        {"learning_rate": 0.02, "momentum": 0.5, "weight_decay": 0.1, "decay_biases": False},
        [
            {
                "W": [[0.469, -0.8575999999999999, 1.992], [-0.1614, 0.7854000000000001, 1.297]],
                "b": [0.108, -0.6971999999999999, -0.055],
            },
            {
                "W": [
                    [0.423182, -0.4131647999999999, 1.980032],
                    [0.037906800000000004, 0.7636752000000001, 1.074106],
                ],
                "b": [0.11968, -0.6930111999999999, -0.20199999999999999],
            },
            {
                "W": [
                    [0.370962996, -0.007487910399999898, 1.966127872],
                    [0.2552099784, 0.7386486976000001, 0.930868388],
                ],
                "b": [0.13273279999999998, -0.6881447552, -0.3553],
            },
            {
                "W": [
                    [0.316692308088, 0.2968630923008001, 1.9513112965119999],
                    [0.46803854893919994, 0.7122716620288001, 0.8850404900240001],
                ],
                "b": [0.14594988799999997, -0.6829589537791999, -0.49642000000000003],
            },
            {
                "W": [
                    [0.262589733354064, 0.4890722490064385, 1.9360977635819518],
                    [0.6654344441745695, 0.6855358842988545, 0.906340264046352],
                ],
                "b": [0.15872043647999998, -0.6776342172536831, -0.617338],
            },
        ],
    ),
    (
        "nesterov",
        {"learning_rate": 0.05, "momentum": 0.9},
        [
            {
                "W": [
                    [0.3575, 0.415, 1.981],
                    [0.35550000000000004, 0.7382500000000001, 0.5499999999999999],
                ],
                "b": [0.138, -0.6867, -0.44875],
            },
            {
                "W": [
                    [0.16778749999999998, 1.1842500000000002, 1.9540805],
                    [1.1036325, 0.653108125, 1.0000000000000002],
                ],
                "b": [0.18498, -0.6679826999999999, -0.9232187500000001],
            },
            {
                "W": [
                    [-0.05280606250000003, 1.1882875000000002, 1.9202036852500002],
                    [1.8104089875, 0.5495684265625, 0.9999999999999999],
                ],
                "b": [0.2345358, -0.6446257586999999, -1.2626804687500002],
            },
            {
                "W": [
                    [-0.28877325531250003, 0.8459606249999999, 1.880265979215125],
                    [2.3795316523125, 0.4324731305195313, 1.0],
                ],
                "b": [0.281222418, -0.6173684664146999, -1.4261470117187502],
            },
            {
                "W": [
                    [-0.5260865424015626, 0.5189332187499999, 1.835100433564819],
                    [2.7579807430471877, 0.3064101799788379, 1.0],
                ],
                "b": [0.32091633678, -0.5869085343243506, -1.4299501752929689],
            },
        ],
    ),
    (
        "nesterov",
        {"learning_rate": 0.02, "momentum": 0.7, "weight_decay": 0.05},
        [
            {
                "W": [
                    [0.44815, -0.6199600000000001, 1.9898],
                    [-0.06489000000000003, 0.77654, 1.15745],
                ],
                "b": [0.11343, -0.69405, -0.128585],
            },
            {
                "W": [
                    [0.383206045, -0.07093166800000002, 1.97671202],
                    [0.21360609299999994, 0.746756702, 0.9496813350000001],
                ],
                "b": [0.129794929, -0.686435575, -0.32798145549999996],
            },
            {
                "W": [
                    [0.3106526256935, 0.35039714335560007, 1.9616477826979999],
                    [0.5036316032559, 0.7129234010726, 0.8817417184305],
                ],
                "b": [0.1474591137487, -0.6776999501125, -0.5203355179406499],
            },
            {
                "W": [
                    [0.23440806230319206, 0.6156165217323115, 1.9452495081368402],
                    [0.7835438433484931, 0.6766584494287624, 0.8996762081122781],
                ],
                "b": [0.1652712573068056, -0.6682270876277937, -0.6888300421225453],
            },
            {
                "W": [
                    [0.157235093703447, 0.7402147991902116, 1.9279694037961963],
                    [1.0397339843170965, 0.6391089804620173, 0.9464259801828242],
                ],
                "b": [0.1824524277277829, -0.6582881034690569, -0.825291811935835],
            },
        ],
    ),
    (
        "adagrad",
        {"learning_rate": 0.1, "eps": 1e-10},
        [
            {
                "W": [
                    [0.40000000000666663, -1.100000000000588, 1.90000000005],
                    [-0.20000000000144927, 0.7000000000153846, 1.400000000001],
                ],
                "b": [0.199999999975, -0.6000000000714285, -0.049999999998095235],
            },
            {
                "W": [
                    [0.3317681749738173, -1.0314635301003692, 1.831125053882545],
                    [-0.13087773540541298, 0.6321719897492762, 1.3375304952459501],
                ],
                "b": [0.24472135952394009, -0.5349208627566595, -0.1170913323941342],
            },
            {
                "W": [
                    [0.2773245390900088, -0.9766120944965491, 1.7758215150982255],
                    [-0.07524454032306946, 0.5782701190841024, 1.2908991767818523],
                ],
                "b": [0.268720252773422, -0.48473590671538413, -0.17000160606764753],
            },
            {
                "W": [
                    [0.23103726425709403, -0.9298608321401162, 1.7285570378963482],
                    [-0.02760667423725275, 0.5326007097506986, 1.2536089816149323],
                ],
                "b": [0.2821766584016057, -0.4433388786316407, -0.21453628093461194],
            },
            {
                "W": [
                    [0.19029725420115817, -0.8886191155175864, 1.6867615982380564],
                    [0.014590769959215488, 0.49253027568613694, 1.222691784267348],
                ],
                "b": [0.2898217391403701, -0.4079301710731173, -0.25337316615529487],
            },
        ],
    ),
    (
        "adagrad",
        {"learning_rate": 0.5, "eps": 0.001, "weight_decay": 0.2},
        [
            {
                "W": [
                    [0.00031230480949401285, -0.7000290006380141, 1.5008319467554077],
                    [0.19992817123976436, 0.30061652281134404, 1.0000485389767984],
                ],
                "b": [0.5986876640419948, -0.20177935943060493, -0.44990496103402394],
            },
            {
                "W": [
                    [-0.2646181717220448, -0.4121620499975161, 1.2011250189096343],
                    [0.5049770432061369, 0.053793857720664584, 0.9902950082086768],
                ],
                "b": [0.15742712797787684, -0.06376372638691247, -0.6755403982256282],
            },
            {
                "W": [
                    [-0.4345856727024225, -0.21214293362772674, 0.9848896274385122],
                    [0.7282206986251958, -0.09355386383900108, 0.990102870935767],
                ],
                "b": [0.30641283537788677, -0.020315339024830383, -0.797836705256708],
            },
            {
                "W": [
                    [-0.5505076406029825, -0.06349956708338392, 0.8177895574993908],
                    [0.9032608881903648, -0.18642153180976354, 0.9900990859607772],
                ],
                "b": [0.26305004504489804, -0.006477856036159111, -0.867161387247116],
            },
            {
                "W": [
                    [-0.6316391730432831, 0.0505931235494278, 0.6840978616723989],
                    [1.0454583439845793, -0.24613908863908346, 0.9900990113993168],
                ],
                "b": [0.2755034888766357, -0.002065735682235655, -0.9070012468851179],
            },
        ],
    ),
    (
        "rmsprop",
        {"learning_rate": 0.01, "alpha": 0.99, "eps": 1e-08},
        [
            {
                "W": [
                    [0.40000000666666624, -1.1000000005882353, 1.900000049999975],
                    [-0.20000000144927538, 0.7000000153846131, 1.400000001],
                ],
                "b": [0.1999999750000062, -0.6000000714285204, -0.04999999809523807],
            },
            {
                "W": [
                    [0.3315851209971205, -1.0312810891035635, 1.8309433995508329],
                    [-0.13069654547053453, 0.6319881535185226, 1.3373391653966165],
                ],
                "b": [0.24490129938821234, -0.5347325691507151, -0.11727655317466741],
            },
            {
                "W": [
                    [0.2768515051692545, -0.9761394653027852, 1.7753495310588263],
                    [-0.07477293852944465, 0.5777966740250938, 1.2904332118642783],
                ],
                "b": [0.26903124164352443, -0.48426339097094906, -0.17047548869249163],
            },
            {
                "W": [
                    [0.23019607638157327, -0.9290185599910331, 1.7277139138699613],
                    [-0.02676291455060828, 0.531761274469448, 1.252825513723108],
                ],
                "b": [0.2825371431941258, -0.4425208015774555, -0.215371655172842],
            },
            {
                "W": [
                    [0.18902542327232003, -0.8873431728658797, 1.6854816883129482],
                    [0.015873449738277333, 0.4912645235574445, 1.2215709839537954],
                ],
                "b": [0.2901689788752189, -0.40672452430848094, -0.2546260524469735],
            },
        ],
    ),
    (
        "rmsprop",
        {"learning_rate": 0.03, "alpha": 0.9, "eps": 0.001, "weight_decay": 0.1},
        [
            {
                "W": [
                    [0.4053248245126365, -1.1051491903232482, 1.9058757874316632],
                    [-0.20517494049326063, 0.7055408565499224, 1.4051612176395571],
                ],
                "b": [0.19410528610262553, -0.6065390486640334, -0.0448112756511173],
            },
            {
                "W": [
                    [0.3389128886952343, -1.0382410672948248, 1.839036800592382],
                    [-0.13780329941664565, 0.6396248397570043, 1.3434794245432127],
                ],
                "b": [0.23754114801618173, -0.5433015068995221, -0.11037707871206853],
            },
            {
                "W": [
                    [0.2844928479384727, -0.9832010871366084, 1.7838405407883497],
                    [-0.08212167255281191, 0.5858129236104491, 1.2957443813817062],
                ],
                "b": [0.2608633958817905, -0.4928720327296452, -0.1635811483897237],
            },
            {
                "W": [
                    [0.23701042711645848, -0.9350188959675305, 1.735378876594812],
                    [-0.03319112550347384, 0.5390139942262461, 1.2562611732667872],
                ],
                "b": [0.27342750446998454, -0.44994838479032234, -0.20961550891579217],
            },
            {
                "W": [
                    [0.19414561658431978, -0.8913905924404638, 1.6913874281467645],
                    [0.011265267580228, 0.4968948184904979, 1.2224776894114726],
                ],
                "b": [0.2799569788884949, -0.4121234608977805, -0.2508508982074913],
            },
        ],
    ),
    (
        "adam",
        {"learning_rate": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-08},
        [
            {
                "W": [
                    [0.40000000066666663, -1.1000000000588235, 1.9000000049999999],
                    [-0.20000000014492753, 0.7000000015384615, 1.4000000001],
                ],
                "b": [0.19999999750000005, -0.6000000071428566, -0.0499999998095238],
            },
            {
                "W": [
                    [0.30023906296839026, -1.0002037872168155, 1.8001664957181431],
                    [-0.1001405031424096, 0.6002882732862784, 1.3011874197948405],
                ],
                "b": [0.2932179587987273, -0.5006944329670581, -0.1496148893720244],
            },
            {
                "W": [
                    [0.20090287154536718, -0.9007664877554384, 1.7006234065937902],
                    [-0.0005244210360357271, 0.5010947874488706, 1.2048712496990632],
                ],
                "b": [0.367180919369612, -0.40274350221052313, -0.24852219401374007],
            },
            {
                "W": [
                    [0.10219893785315153, -0.8018588733196236, 1.60150491486155],
                    [0.09873816971198202, 0.402681714318242, 1.1129153943652141],
                ],
                "b": [0.4084645542608907, -0.30700168262589556, -0.3463408861598073],
            },
            {
                "W": [
                    [0.004358171200153624, -0.7036682310470154, 1.502955805956515],
                    [0.1975298888995417, 0.30534637969279377, 1.027814446726488],
                ],
                "b": [0.41709502229372564, -0.21455167667185598, -0.44262416092688656],
            },
        ],
    ),
    (
        "adam",
        {
            "learning_rate": 0.05,
            "beta1": 0.8,
            "beta2": 0.99,
            "eps": 0.001,
            "weight_decay": 0.1,
            "decay_biases": False,
        },
        [
            {
                "W": [
                    [0.45003223726627983, -1.150002920390164, 1.9501246882793017],
                    [-0.25000721396623865, 0.7500683994528045, 1.4500049256230914],
                ],
                "b": [0.14987531172069826, -0.650354609929078, 9.521995810328476e-06],
            },
            {
                "W": [
                    [0.40016886889580333, -1.1000908763695736, 1.900321723581795],
                    [-0.20007767809655608, 0.7002601330079052, 1.4003537217569058],
                ],
                "b": [0.19848878293593444, -0.6009489856669116, -0.04983656543422699],
            },
            {
                "W": [
                    [0.3504831274286466, -1.0503230475222967, 1.8506399394954438],
                    [-0.1502547164117768, 0.65066227001216, 1.3513262587063752],
                ],
                "b": [0.24441198325247787, -0.5519568868763487, -0.09943383954172541],
            },
            {
                "W": [
                    [0.30105041239497626, -1.000759785948738, 1.801128769227024],
                    [-0.1005820135923811, 0.6013652646388408, 1.303242956429616],
                ],
                "b": [0.285647165091397, -0.5035677555063494, -0.1486726271080147],
            },
            {
                "W": [
                    [0.2519475779192301, -0.9514620284393609, 1.751837757081382],
                    [-0.05110318175744218, 0.5524621361746445, 1.2564648596327064],
                ],
                "b": [0.319792041616412, -0.4559856723463063, -0.19743892944018349],
            },
        ],
    ),
]

W0 = [[0.5, -1.2, 2.0], [-0.3, 0.8, 1.5]]
B0 = [0.1, -0.7, 0.05]
A = {"W": np.array([[1.0, 10.0, 0.1], [3.0, 0.5, 20.0]]), "b": np.array([2.0, 0.2, 5.0])}
C = {"W": np.array([[-1.0, 0.5, 0.0], [2.0, -0.5, 1.0]]), "b": np.array([0.3, 0.0, -1.0])}


def quadratic_trajectory(optimizer, steps=5):
    """The parameters after each step on the reference quadratic."""
    params = {"W": np.array(W0), "b": np.array(B0)}
    path = []
    for _ in range(steps):
        grads = {name: A[name] * (p - C[name]) for name, p in params.items()}
        optimizer.step(params, grads)
        path.append({name: p.copy() for name, p in params.items()})
    return path


def distance_to_reference(path, expected):
    return max(float(np.max(np.abs(np.array(step[name]) - got[name])))
               for step, got in zip(expected, path, strict=True) for name in ("W", "b"))


@pytest.mark.parametrize("name, settings, expected", REFERENCE,
                         ids=[f"{name}-{i % 2}" for i, (name, _, _) in enumerate(REFERENCE)])
def test_equals_pytorch_step_by_step(name, settings, expected):
    path = quadratic_trajectory(make_optimizer(name, **settings))
    for k, (step, got) in enumerate(zip(expected, path, strict=True), 1):
        for p in ("W", "b"):
            np.testing.assert_allclose(got[p], step[p], rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name} {settings}, step {k}, {p}")


def reference(name, index=0):
    return [case for case in REFERENCE if case[0] == name][index]


class AdamWithoutBiasCorrection(Adam):
    def update(self, p, g, state):
        m = self.beta1 * self._zeros(state, "m", p) + (1 - self.beta1) * g
        v = self.beta2 * self._zeros(state, "v", p) + (1 - self.beta2) * g * g
        state.update(m=m, v=v)
        p -= self.learning_rate * m / (np.sqrt(v) + self.eps)


class AdamEpsInsideSqrt(Adam):
    def update(self, p, g, state):
        t = state.get("step", 0) + 1
        m = self.beta1 * self._zeros(state, "m", p) + (1 - self.beta1) * g
        v = self.beta2 * self._zeros(state, "v", p) + (1 - self.beta2) * g * g
        state.update(step=t, m=m, v=v)
        p -= (
            self.learning_rate
            * (m / (1 - self.beta1**t))
            / np.sqrt(v / (1 - self.beta2**t) + self.eps)
        )


class AdaGradEpsInsideSqrt(AdaGrad):
    def update(self, p, g, state):
        h = self._zeros(state, "sum_of_squares", p) + g * g
        state["sum_of_squares"] = h
        p -= self.learning_rate * g / np.sqrt(h + self.eps)


class RMSPropEpsInsideSqrt(RMSProp):
    def update(self, p, g, state):
        s = self.alpha * self._zeros(state, "mean_square", p) + (1 - self.alpha) * g * g
        state["mean_square"] = s
        p -= self.learning_rate * g / np.sqrt(s + self.eps)


class RMSPropSwappedAlpha(RMSProp):
    def update(self, p, g, state):
        s = (1 - self.alpha) * self._zeros(state, "mean_square", p) + self.alpha * g * g
        state["mean_square"] = s
        p -= self.learning_rate * g / (np.sqrt(s) + self.eps)


def tweak(settings, **changes):
    return {**settings, **changes}


NEAR_MISSES = [
    # (reference case, optimizer built from its settings)
    (("adam", 0), lambda s: AdamWithoutBiasCorrection(**s)),
    (("adam", 1), lambda s: AdamWithoutBiasCorrection(**s)),
    (("adam", 1), lambda s: AdamEpsInsideSqrt(**s)),
    (("adam", 0), lambda s: Adam(**tweak(s, beta2=0.998))),
    (("adam", 1), lambda s: Adam(**tweak(s, decay_biases=True))),
    (("adagrad", 0), lambda s: AdaGradEpsInsideSqrt(**s)),
    (("adagrad", 1), lambda s: AdaGradEpsInsideSqrt(**s)),
    (("rmsprop", 0), lambda s: RMSPropEpsInsideSqrt(**s)),
    (("rmsprop", 1), lambda s: RMSPropEpsInsideSqrt(**s)),
    (("rmsprop", 0), lambda s: RMSPropSwappedAlpha(**s)),
    (("momentum", 0), lambda s: Momentum(**tweak(s, momentum=0.89))),
    (("momentum", 1), lambda s: Momentum(**tweak(s, decay_biases=True))),
    (("momentum", 0), lambda s: Nesterov(**s)),
    (("nesterov", 0), lambda s: Momentum(**s)),
    (("nesterov", 1), lambda s: Nesterov(**tweak(s, weight_decay=0.051))),
    (("adagrad", 0), lambda s: AdaGrad(**tweak(s, eps=1e-6))),
]


@pytest.mark.parametrize("case, build", NEAR_MISSES,
                         ids=[f"{name}-{i}-{n}" for n, ((name, i), _) in enumerate(NEAR_MISSES)])
def test_near_misses_do_not_match_pytorch(case, build):
    name, settings, expected = reference(*case)
    path = quadratic_trajectory(build(dict(settings)))
    assert distance_to_reference(path, expected) > 1e-10  # 100 x the tolerance


def test_decoupled_weight_decay_does_not_match():
    """Shrinking p after the momentum step (AdamW-like) is not torch's L2 rule."""
    name, settings, expected = reference("nesterov", 1)
    params = {"W": np.array(W0), "b": np.array(B0)}
    plain = Nesterov(learning_rate=settings["learning_rate"], momentum=settings["momentum"])
    path = []
    for _ in range(5):
        grads = {k: A[k] * (p - C[k]) for k, p in params.items()}
        before = {k: p.copy() for k, p in params.items()}
        plain.step(params, grads)
        for k in params:
            params[k] -= settings["learning_rate"] * settings["weight_decay"] * before[k]
        path.append({k: p.copy() for k, p in params.items()})
    assert distance_to_reference(path, expected) > 1e-10  # 100 x the tolerance


# -- properties of every optimizer ------------------------------------------

ALL = sorted(OPTIMIZERS)


@pytest.mark.parametrize("name", ALL)
def test_inputs_untouched_except_params_and_in_place(name):
    rng = np.random.default_rng(10)
    params, grads = make_params(rng)
    ids = {k: id(p) for k, p in params.items()}
    grads_before = {k: v.copy() for k, v in grads.items()}
    params_before = {k: v.copy() for k, v in params.items()}
    optimizer = make_optimizer(name, 0.1, weight_decay=0.01)
    for _ in range(3):
        optimizer.step(params, grads)
    assert {k: id(p) for k, p in params.items()} == ids
    for k in grads:
        np.testing.assert_array_equal(grads[k], grads_before[k], err_msg=k)
        assert not np.array_equal(params[k], params_before[k]), k
    # the state never aliases the caller's arrays
    for k, state in optimizer.state.items():
        for value in state.values():
            if isinstance(value, np.ndarray):
                assert not np.shares_memory(value, grads[k]) and not np.shares_memory(
                    value, params[k]
                )


@pytest.mark.parametrize("name", ALL)
def test_state_is_kept_per_parameter_name(name):
    """Two parameters stepped together move as if each had its own optimizer,
    also when one of them sits out a step."""
    rng = np.random.default_rng(11)
    p1, p2 = rng.normal(size=(3, 2)), rng.normal(size=4)
    together = make_optimizer(name, 0.05)
    alone1, alone2 = make_optimizer(name, 0.05), make_optimizer(name, 0.05)
    params = {"W_1": p1.copy(), "W_2": p2.copy()}
    a, b = {"W_1": p1.copy()}, {"W_2": p2.copy()}
    for step in range(5):
        g1, g2 = rng.normal(size=(3, 2)), rng.normal(size=4)
        if step == 2:  # only W_1 steps
            together.step({"W_1": params["W_1"]}, {"W_1": g1})
        else:
            together.step(params, {"W_1": g1, "W_2": g2})
            alone2.step(b, {"W_2": g2})
        alone1.step(a, {"W_1": g1})
        np.testing.assert_array_equal(params["W_1"], a["W_1"])
        np.testing.assert_array_equal(params["W_2"], b["W_2"])
    if name != "sgd":
        assert sorted(together.state) == ["W_1", "W_2"]


@pytest.mark.parametrize("name", ALL)
def test_reset_forgets_the_state(name):
    rng = np.random.default_rng(12)
    params, grads = make_params(rng)
    fresh = {k: v.copy() for k, v in params.items()}
    optimizer = make_optimizer(name, 0.1)
    optimizer.step(params, grads)
    first = {k: v.copy() for k, v in params.items()}
    optimizer.reset()
    assert optimizer.state == {}
    optimizer.step(fresh, grads)
    for k in params:
        np.testing.assert_array_equal(fresh[k], first[k], err_msg=k)


@pytest.mark.parametrize("name", ALL)
def test_first_step_of_each_rule(name):
    """One step from zero state, written out by hand."""
    p, g, lr = np.array([1.0, -2.0, 0.5]), np.array([0.3, -0.1, 4.0]), 0.1
    expected = {
        "sgd": p - lr * g,
        "momentum": p - lr * g,
        "nesterov": p - lr * (g + 0.9 * g),
        "adagrad": p - lr * g / (np.abs(g) + 1e-10),
        "rmsprop": p - lr * g / (np.sqrt(0.01 * g * g) + 1e-8),
        "adam": p - lr * g / (np.abs(g) + 1e-8),
    }[name]
    params = {"W": p.copy()}
    make_optimizer(name, lr).step(params, {"W": g})
    np.testing.assert_allclose(params["W"], expected, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", ALL)
def test_zero_learning_rate_and_zero_gradient(name):
    rng = np.random.default_rng(13)
    params, grads = make_params(rng)
    before = {k: v.copy() for k, v in params.items()}
    make_optimizer(name, 0.0, weight_decay=0.1).step(params, grads)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
    zeros = {k: np.zeros_like(v) for k, v in grads.items()}
    make_optimizer(name, 0.1).step(params, zeros)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])


@pytest.mark.parametrize("name", ALL)
def test_decay_biases_false_skips_bias_like_names(name):
    rng = np.random.default_rng(14)
    names = ["W_1", "b_1", "gamma_1", "beta_1"]
    params = {k: rng.normal(size=3) for k in names}
    grads = {k: rng.normal(size=3) for k in names}
    with_decay = {k: v.copy() for k, v in params.items()}
    without = {k: v.copy() for k, v in params.items()}
    make_optimizer(name, 0.1, weight_decay=0.5, decay_biases=False).step(with_decay, grads)
    make_optimizer(name, 0.1).step(without, grads)
    assert not np.array_equal(with_decay["W_1"], without["W_1"])
    for k in names[1:]:
        np.testing.assert_array_equal(with_decay[k], without[k], err_msg=k)


@pytest.mark.parametrize("name", ALL)
def test_penalty_matches_sgd(name):
    rng = np.random.default_rng(15)
    params, _ = make_params(rng)
    for decay_biases in (True, False):
        expected = SGD(0.1, 0.03, decay_biases).penalty(params)
        assert (
            make_optimizer(name, 0.1, 0.03, decay_biases=decay_biases).penalty(params) == expected
        )


@pytest.mark.parametrize("name", ALL)
def test_float32_parameters_stay_float32(name):
    rng = np.random.default_rng(16)
    params, grads = make_params(rng)
    params = {k: v.astype(np.float32) for k, v in params.items()}
    optimizer = make_optimizer(name, 0.01)
    optimizer.step(params, grads)
    optimizer.step(params, grads)
    assert all(p.dtype == np.float32 for p in params.values())


def test_optimizers_registry_and_defaults():
    assert OPTIMIZERS == {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov,
                          "adagrad": AdaGrad, "rmsprop": RMSProp, "adam": Adam}
    assert all(issubclass(cls, Optimizer) for cls in OPTIMIZERS.values())
    assert SGD().learning_rate == 0.1
    assert (Momentum().learning_rate, Momentum().momentum) == (0.01, 0.9)
    assert (Nesterov().learning_rate, Nesterov().momentum) == (0.01, 0.9)
    assert (AdaGrad().learning_rate, AdaGrad().eps) == (0.01, 1e-10)
    assert (RMSProp().learning_rate, RMSProp().alpha, RMSProp().eps) == (0.01, 0.99, 1e-8)
    adam = Adam()
    assert (adam.learning_rate, adam.beta1, adam.beta2, adam.eps) == (0.001, 0.9, 0.999, 1e-8)
    assert all(cls().weight_decay == 0.0 and cls().decay_biases for cls in OPTIMIZERS.values())
    assert repr(make_optimizer("Adam", 0.01, weight_decay=0.1)) == (
        "Adam(learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.1)")


def test_make_optimizer_passes_hyperparameters():
    optimizer = make_optimizer("momentum", 0.2, 0.01, momentum=0.5, decay_biases=False)
    assert isinstance(optimizer, Momentum)
    assert (optimizer.learning_rate, optimizer.weight_decay, optimizer.momentum,
            optimizer.decay_biases) == (0.2, 0.01, 0.5, False)


def test_make_optimizer_rejects_unknown_names_and_settings():
    with pytest.raises(ValueError, match=r"optimizer must be one of \['adagrad', 'adam', "):
        make_optimizer("adamw", 0.1)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        make_optimizer(None, 0.1)
    with pytest.raises(
        TypeError,
        match=r"Momentum does not take \['beta1'\]; its own settings are: momentum, decay_biases",
    ):
        make_optimizer("momentum", 0.1, beta1=0.9)


@pytest.mark.parametrize("build, error, match", [
    (lambda: Momentum(momentum=1.0), ValueError, "momentum must be < 1; got 1.0"),
    (lambda: Momentum(momentum=-0.1), ValueError, "momentum must be >= 0"),
    (lambda: Nesterov(momentum=0.0), ValueError, "momentum must be > 0"),
    (lambda: Momentum(momentum="0.9"), TypeError, "momentum must be a real number"),
    (lambda: AdaGrad(eps=0.0), ValueError, "eps must be > 0"),
    (lambda: RMSProp(alpha=1.0), ValueError, "alpha must be < 1"),
    (lambda: RMSProp(eps=-1e-8), ValueError, "eps must be > 0"),
    (lambda: Adam(beta1=1.0), ValueError, "beta1 must be < 1"),
    (lambda: Adam(beta2=float("nan")), ValueError, "beta2 must be finite"),
    (lambda: Adam(learning_rate=-0.001), ValueError, "learning_rate must be >= 0"),
    (lambda: Adam(weight_decay=-1), ValueError, "weight_decay must be >= 0"),
    (lambda: RMSProp(decay_biases=1), TypeError, "decay_biases must be True or False"),
])
def test_hyperparameter_checks(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize("name", ALL)
def test_step_rejects_mismatched_grads_for_every_optimizer(name):
    rng = np.random.default_rng(17)
    params, grads = make_params(rng)
    del grads["W_fc"]
    with pytest.raises(ValueError, match=r"grads is missing gradients for \['W_fc'\]"):
        make_optimizer(name, 0.1).step(params, grads)


@pytest.mark.parametrize("name", [n for n in ALL if n != "sgd"])
def test_state_of_another_shape_asks_for_reset(name):
    optimizer = make_optimizer(name, 0.1)
    optimizer.step({"W": np.ones(3)}, {"W": np.ones(3)})
    with pytest.raises(
        ValueError,
        match=r"state of shape \(3,\) for a parameter that now has shape \(4,\)\. Call reset\(\)",
    ):
        optimizer.step({"W": np.ones(4)}, {"W": np.ones(4)})
    optimizer.reset()
    optimizer.step({"W": np.ones(4)}, {"W": np.ones(4)})
