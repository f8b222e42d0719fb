"""reglab.doctor on models built the way users build them (issue 19): every Keras 3 layer type with a
``*_regularizer`` argument, enumerated from ``keras.layers``, regularized in its constructor and set
after build (the blog recipe); the ``keras.applications`` recipe (edit ``get_config()``, rebuild); correct
custom loops that must raise nothing (a loss string, BatchNormalization, Dropout); and each pitfall of
the issue on the model that showed it."""

import inspect
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import reglab.doctor as doctor
from reglab import penalties, repro, tf1
from reglab.doctor.keras_model import layers_of

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")
tf_slim = pytest.importorskip("tf_slim")
v1 = tf.compat.v1
RL = v1.GraphKeys.REGULARIZATION_LOSSES

X = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
Y = np.array([0, 1, 0, 1, 1, 0, 1, 0])
XENT = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
L2 = keras.regularizers.l2

# --- every layer type Keras ships with a *_regularizer argument -------------------------------------
CONV = {"filters": 2, "kernel_size": 2}
#: class name -> (constructor arguments, input shape without the batch, how it is called)
SPECS = {
    "BatchNormalization": ({}, (4,), "plain"),
    "LayerNormalization": ({}, (4,), "plain"),
    "GroupNormalization": ({"groups": 2}, (4,), "plain"),
    "Dense": ({"units": 3}, (4,), "plain"),
    "EinsumDense": ({"equation": "ab,bc->ac", "output_shape": 3, "bias_axes": "c"}, (4,), "plain"),
    "Embedding": ({"input_dim": 5, "output_dim": 3}, (2,), "ids"),
    "ReversibleEmbedding": ({"input_dim": 5, "output_dim": 3}, (2,), "ids"),
    "PReLU": ({}, (4,), "plain"),
    "Conv1D": (CONV, (5, 2), "plain"),
    "Conv2D": (CONV, (5, 5, 2), "plain"),
    "Conv3D": (CONV, (4, 4, 4, 2), "plain"),
    "Conv1DTranspose": (CONV, (5, 2), "plain"),
    "Conv2DTranspose": (CONV, (5, 5, 2), "plain"),
    "Conv3DTranspose": (CONV, (4, 4, 4, 2), "plain"),
    "DepthwiseConv1D": ({"kernel_size": 2}, (5, 2), "plain"),
    "DepthwiseConv2D": ({"kernel_size": 2}, (5, 5, 2), "plain"),
    "SeparableConv1D": (CONV, (5, 2), "plain"),
    "SeparableConv2D": (CONV, (5, 5, 2), "plain"),
    "ConvLSTM1D": (CONV, (3, 5, 2), "plain"),
    "ConvLSTM2D": (CONV, (3, 5, 5, 2), "plain"),
    "ConvLSTM3D": (CONV, (3, 4, 4, 4, 2), "plain"),
    "GRU": ({"units": 3}, (3, 2), "plain"),
    "LSTM": ({"units": 3}, (3, 2), "plain"),
    "SimpleRNN": ({"units": 3}, (3, 2), "plain"),
    "GRUCell": ({"units": 3}, (3, 2), "cell"),
    "LSTMCell": ({"units": 3}, (3, 2), "cell"),
    "SimpleRNNCell": ({"units": 3}, (3, 2), "cell"),
    "MultiHeadAttention": ({"num_heads": 2, "key_dim": 2}, (3, 4), "attention"),
    "GroupedQueryAttention": ({"head_dim": 2, "num_query_heads": 2, "num_key_value_heads": 1}, (3, 4),
                            "attention"),
}


def regularized_layer_types():
    """``{class: [its *_regularizer arguments but activity_regularizer]}`` from ``keras.layers``."""
    found = {}
    for name in dir(keras.layers):
        cls = getattr(keras.layers, name)
        if inspect.isclass(cls) and issubclass(cls, keras.layers.Layer):
            args = [p for p in inspect.signature(cls.__init__).parameters
                    if p.endswith("_regularizer") and p != "activity_regularizer"]
            if args:
                found[cls] = args
    return found


TYPES = regularized_layer_types()


def test_every_layer_type_with_a_regularizer_argument_has_a_case():
    names = {cls.__name__ for cls in TYPES}
    assert names - set(SPECS) == set(), "a Keras layer type with a *_regularizer argument has no case"
    assert {"DepthwiseConv2D", "SeparableConv2D", "GRU", "Embedding", "MultiHeadAttention"} <= names


def build(cls, regularizers):
    kwargs, shape, how = SPECS[cls.__name__]
    repro.seed_everything(0)
    inputs = keras.Input(shape, dtype="int32" if how == "ids" else "float32")
    if how == "cell":
        outputs = keras.layers.RNN(cls(**kwargs, **regularizers))(inputs)
    elif how == "attention":
        outputs = cls(**kwargs, **regularizers)(inputs, inputs)
    else:
        outputs = cls(**kwargs, **regularizers)(inputs)
    return keras.Model(inputs, outputs)


def _targets(model, cls):
    """The layers a user sets attributes on: the layer itself, or an RNN's cell (the layer's
    attributes are read-only properties there)."""
    out = []
    for layer in layers_of(model):
        if type(layer) is cls:
            out.append(getattr(layer, "cell", layer))
        elif isinstance(getattr(layer, "cell", None), cls):
            out.append(layer.cell)
    return out


FINE = {"BIAS_PENALIZED", "BATCHNORM_SCALE_PENALIZED"}  # penalizing every weight penalizes these too


@pytest.mark.parametrize("cls", sorted(TYPES, key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_regularizer_in_the_constructor_and_set_after_build(cls):
    args = TYPES[cls]
    model = build(cls, {arg: L2(0.01 * (i + 1)) for i, arg in enumerate(args)})
    report = doctor.diagnose(model)
    rows = [r for r in report.weights if r.regularizer is not None]
    expected = sum(1 for v in model.trainable_variables if v.regularizer is not None)
    assert len(rows) == expected >= len(args) and all(r.in_loss for r in rows)
    assert set(report.codes()) <= FINE
    assert report.total_penalty == pytest.approx(float(sum(model.losses)), rel=1e-5)

    late = build(cls, {})  # the blog recipe: attributes set on the built model
    targets = _targets(late, cls)
    for layer in targets:
        for arg in args:
            setattr(layer, arg, L2(0.01))
    report = doctor.diagnose(late)
    assert "REGULARIZER_SET_AFTER_BUILD" in report.codes()
    text = " ".join(f.message for f in report.findings if f.code == "REGULARIZER_SET_AFTER_BUILD")
    assert all(f"{targets[0].name}.{arg}" in text for arg in args), text
    assert all(r.in_loss is False for r in report.weights if r.regularizer is not None)
    assert len([r for r in report.weights if r.regularizer is not None]) >= len(args)


def _mobilenet():
    return keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), alpha=0.35, classes=4)


def test_keras_applications_recipe_and_blog_recipe_on_mobilenet():
    net = _mobilenet()
    config = net.get_config()
    for layer in config["layers"]:
        arg = {"Conv2D": "kernel_regularizer", "Dense": "kernel_regularizer",
               "DepthwiseConv2D": "depthwise_regularizer"}.get(layer["class_name"])
        if arg:
            layer["config"][arg] = keras.regularizers.serialize(L2(1e-4))
    rebuilt = keras.Model.from_config(config)
    report = doctor.diagnose(rebuilt)
    rows = [r for r in report.weights if r.regularizer is not None]
    depthwise = [r for r in rows if "depthwise" in r.name]
    assert len(depthwise) == 17 and len(rows) == 53 and all(r.in_loss for r in rows)
    assert report.total_penalty == pytest.approx(float(sum(rebuilt.losses)), rel=1e-5)
    assert "REGULARIZER_SET_AFTER_BUILD" not in report.codes()

    for layer in net.layers:  # the blog recipe: too late, nothing reaches model.losses
        for attr in ("kernel_regularizer", "depthwise_regularizer"):
            if hasattr(layer, attr):
                setattr(layer, attr, L2(1e-4))
    late = doctor.diagnose(net)
    assert "REGULARIZER_SET_AFTER_BUILD" in late.codes()
    message = " ".join(f.message for f in late.findings)
    assert "expanded_conv_depthwise.depthwise_regularizer" in message
    assert len([r for r in late.weights if r.regularizer is not None and r.in_loss is False]) == 53


# --- no false alarm on a correct loop -----------------------------------------------------------
def _net(*middle, loss=None, out=2):
    repro.seed_everything(0)
    model = keras.Sequential([keras.Input((4,)),
                              keras.layers.Dense(6, activation="tanh", kernel_regularizer=L2(1e-2)),
                              *middle, keras.layers.Dense(out, kernel_regularizer=L2(1e-2))])
    if loss is not None:
        model.compile(optimizer="adam", loss=loss)
    return model


@pytest.mark.parametrize("middle", [(), ("bn",), ("dropout",), ("bn", "dropout")])
@pytest.mark.parametrize("loss_name", ["sparse_categorical_crossentropy", "mse"])
def test_correct_loop_with_a_loss_string_batchnorm_and_dropout_has_no_finding(middle, loss_name):
    layers = [keras.layers.BatchNormalization() if m == "bn" else keras.layers.Dropout(0.5) for m in middle]
    model = _net(*layers, loss=loss_name)
    data = keras.losses.get(loss_name)
    y = Y if loss_name.startswith("sparse") else np.eye(2, dtype=np.float32)[Y]
    before = [v.numpy().copy() for v in model.variables]

    def loop_loss(x, y):
        return keras.ops.mean(data(y, model(x, training=True))) + sum(model.losses)

    report = doctor.diagnose(model, loss=loop_loss, batch=(X, y))
    assert report.codes() == []
    assert [r.how for r in report.weights if r.regularizer] == ["gradient: 1 x the penalty's"] * 2
    for a, v in zip(before, model.variables, strict=True):
        np.testing.assert_array_equal(a, v.numpy())

    def forgot(x, y):
        return keras.ops.mean(data(y, model(x, training=True)))

    assert doctor.diagnose(model, loss=forgot, batch=(X, y)).codes() == ["CUSTOM_LOOP_MISSES_MODEL_LOSSES"]


def test_dropout_that_cannot_be_replayed_is_named_not_called_wrong():
    model = _net(keras.layers.Dropout(0.5, name="drop"), loss=XENT)

    def twice(x, y):  # two calls, two masks: the doctor's one data pass cannot match both
        return 0.5 * (XENT(y, model(x, training=True)) + XENT(y, model(x, training=True))) + sum(model.losses)

    report = doctor.diagnose(model, loss=twice, batch=(X, Y))
    assert report.codes() == ["GRADIENT_CANNOT_TELL"]
    assert "drop (Dropout)" in report.findings[0].message


# --- pitfalls -----------------------------------------------------------------------------------
def test_recurrent_bias_is_a_bias_by_role():
    model = keras.Sequential([keras.Input((3, 2)), keras.layers.GRU(3, bias_regularizer=L2(0.1))])
    report = doctor.diagnose(model)
    assert report.row("bias").shape == (2, 9)
    assert report.codes() == ["BIAS_PENALIZED"]


class AddsLoss(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(2, kernel_regularizer=L2(1e-2))

    def call(self, x):
        out = self.dense(x)
        self.add_loss(0.1 * keras.ops.sum(keras.ops.abs(out)))
        return out


def test_add_loss_term_is_reported_and_the_total_agrees_with_model_losses():
    model = AddsLoss()
    model(X)
    report = doctor.diagnose(model)
    assert report.codes() == ["ADD_LOSS_UNEXPLAINED"]
    explained = report.total_penalty + sum(a.penalty for a in report.added)
    assert explained == pytest.approx(float(sum(model.losses)), rel=1e-5)
    on_batch = doctor.diagnose(model, batch=(2 * X, Y))
    expected = 0.1 * np.abs(2 * X @ model.dense.kernel.numpy() + model.dense.bias.numpy()).sum()
    assert on_batch.added[0].penalty == pytest.approx(expected, rel=1e-5)


def test_compiled_loss_that_adds_model_losses_counts_them_twice():
    model = _net()
    model.compile(optimizer="adam", loss=lambda y, p: XENT(y, p) + sum(model.losses))
    assert doctor.diagnose(model).codes() == ["REG_COUNTED_TWICE"]
    assert doctor.diagnose(model, batch=(X, Y)).codes() == ["REG_COUNTED_TWICE"]
    model.compile(optimizer="adam", loss=lambda y, p: XENT(y, p))
    assert doctor.diagnose(model).codes() == []


class OwnStep(keras.Model):
    def __init__(self, add_penalty):
        super().__init__()
        self.add_penalty = add_penalty
        self.dense = keras.layers.Dense(2, kernel_regularizer=L2(1e-2))

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = XENT(y, self(x, training=True))
            if self.add_penalty:
                loss = loss + sum(self.losses)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        return {"loss": loss}


def test_overridden_train_step_is_run_not_assumed():
    for add, codes in ((False, ["CUSTOM_LOOP_MISSES_MODEL_LOSSES"]), (True, [])):
        model = OwnStep(add)
        model(X)
        model.compile(optimizer=keras.optimizers.Adam(0.1), loss=XENT)
        assert doctor.diagnose(model).codes() == ["TRAIN_STEP_NOT_CHECKED"]
        before = [v.numpy().copy() for v in model.variables]
        assert doctor.diagnose(model, batch=(X, Y)).codes() == codes
        for a, v in zip(before, model.variables, strict=True):
            np.testing.assert_array_equal(a, v.numpy())


def test_loss_scale_optimizer_is_looked_through():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = _net()
        model.compile(optimizer=keras.optimizers.AdamW(weight_decay=0.01), loss=XENT)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"
    report = doctor.diagnose(model)
    assert report.decay["optimizer"] == "LossScaleOptimizer(AdamW)"
    assert "DECAY_AND_L2_ON_SAME_WEIGHTS" in report.codes()
    assert doctor.diagnose(model, batch=(X, Y)).codes() == report.codes()


class SlimL2(keras.regularizers.Regularizer):
    """slim's convention under Keras' name: ``c * sum(w**2) / 2``."""

    def __init__(self, l2):
        self.l2 = l2

    def __call__(self, w):
        return self.l2 * keras.ops.sum(keras.ops.square(w)) / 2

    def get_config(self):
        return {"l2": self.l2}


SlimL2.__name__ = SlimL2.__qualname__ = "L2"


def test_regularizer_is_measured_by_calling_it_not_by_its_class_name():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, kernel_regularizer=SlimL2(1e-3))])
    row = doctor.diagnose(model).row("kernel")
    assert row.regularizer.kind == "l2" and row.regularizer.l2 == pytest.approx(5e-4, rel=1e-5)
    assert row.penalty == pytest.approx(penalties.slim_l2(model.layers[0].kernel.numpy(), 1e-3), rel=1e-5)
    assert row.regularizer.label() == "L2 = keras l2(0.0005)"


def test_activity_on_nested_shared_and_multi_output_layers_leaves_model_losses_as_found():
    act = L2(0.01)
    shared = keras.layers.Dense(3, activity_regularizer=act, name="shared")
    a, b = keras.Input((4,)), keras.Input((4,))
    deep = keras.layers.Dense(2, activity_regularizer=act, name="deep")
    inner = keras.Sequential([keras.Input((3,)), deep], name="inner")
    model = keras.Model([a, b], inner(keras.layers.Add()([shared(a), shared(b)])))
    model([X, X])
    found = [float(t) for t in model.losses]
    held = [list(layer._losses) for layer in [model, *layers_of(model)]]
    report = doctor.diagnose(model, batch=([X, 2 * X], Y))
    assert [float(t) for t in model.losses] == pytest.approx(found, rel=1e-7)
    after = [list(layer._losses) for layer in [model, *layers_of(model)]]
    assert all(len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))
               for a, b in zip(held, after, strict=True))  # the very tensors, not copies
    rows = {r.layer: r for r in report.activity}
    kernel, bias = shared.kernel.numpy(), shared.bias.numpy()
    expected = sum(penalties.keras_activity(x @ kernel + bias, lambda o: penalties.keras_l2(o, 0.01))
                   for x in (X, 2 * X))
    assert rows["shared"].terms == 2 and rows["shared"].penalty == pytest.approx(expected, rel=1e-5)
    assert rows["deep"].terms == 1 and rows["deep"].penalty > 0

    lstm = keras.layers.LSTM(3, return_state=True, activity_regularizer=act)
    inputs = keras.Input((5, 2))
    with_state = keras.Model(inputs, lstm(inputs)[0])
    seq = np.ones((2, 5, 2), np.float32)
    report = doctor.diagnose(with_state, batch=(seq, Y[:2]))
    outputs = lstm(seq)
    expected = sum(float(act(o)) / 2 for o in outputs)
    assert report.activity[0].terms == 3 and report.activity[0].penalty == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("activation, bias, between, flagged", [
    (None, False, None, True), (None, True, None, True),              # the batch mean removes a bias
    ("relu", False, None, True), ("relu", True, None, False),         # relu(c z + b) != c relu(z + b')
    ("leaky_relu", False, None, True), ("tanh", False, None, False), ("gelu", False, None, False),
    (None, False, "relu", True), (None, True, "relu", False), (None, False, "ReLU", True),
    (None, False, "ReLU6", False), (None, False, "PReLU", True), (None, True, "LeakyReLU", False),
    (None, False, "sigmoid", False),
])
def test_l2_on_a_kernel_that_feeds_batchnorm(activation, bias, between, flagged):
    layers = {"relu": lambda: keras.layers.Activation("relu"),
              "sigmoid": lambda: keras.layers.Activation("sigmoid"),
              "ReLU": keras.layers.ReLU, "ReLU6": lambda: keras.layers.ReLU(max_value=6.0),
              "PReLU": keras.layers.PReLU, "LeakyReLU": keras.layers.LeakyReLU}
    model = keras.Sequential([keras.Input((4,)),
                              keras.layers.Dense(3, activation=activation, use_bias=bias,
                                                 kernel_regularizer=L2(1e-3), name="conv"),
                              *([layers[between]()] if between else []),
                              keras.layers.BatchNormalization(name="bn"), keras.layers.Dense(2)])
    report = doctor.diagnose(model)
    assert ("L2_BEFORE_BATCHNORM" in report.codes()) is flagged
    if flagged:
        message = report.findings[-1].message
        assert "conv/kernel" in message and "van Laarhoven 2017" in message
        assert "learning-rate schedule" in message
        assert doctor.CATALOGUE["L2_BEFORE_BATCHNORM"][0] == "warning"


def test_l2_before_batchnorm_not_when_the_kernel_output_is_a_model_output():
    """A model output is a reader that is not a normalization: the caller sees the kernel's scale."""
    x = keras.Input((4,))
    h = keras.layers.Dense(8, use_bias=False, kernel_regularizer=L2(1e-3))(x)
    bn = keras.layers.BatchNormalization
    assert "L2_BEFORE_BATCHNORM" in doctor.diagnose(keras.Model(x, bn()(h))).codes()
    assert doctor.diagnose(keras.Model(x, [bn()(h), h])).codes() == []
    a = keras.layers.ReLU()(keras.layers.Dense(8, use_bias=False, kernel_regularizer=L2(1e-3))(x))
    assert doctor.diagnose(keras.Model(x, {"bn": bn()(a), "relu": a})).codes() == []


def test_l2_before_batchnorm_claim_holds_numerically():
    """Where the doctor says the kernel's scale does not change the function, it does not (BN with a
    tiny epsilon); where it stays silent (relu with a bias, tanh), it does."""
    x = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)
    for activation, bias in ((None, True), ("relu", False), ("relu", True), ("tanh", False)):
        dense = keras.layers.Dense(4, activation=activation, use_bias=bias, kernel_regularizer=L2(1e-3),
                                   bias_initializer="ones")
        model = keras.Sequential([keras.Input((8,)), dense, keras.layers.BatchNormalization(epsilon=1e-9)])
        flagged = "L2_BEFORE_BATCHNORM" in doctor.diagnose(model).codes()
        before = model(x, training=True).numpy()
        dense.kernel.assign(dense.kernel * 0.3)
        change = float(np.abs(model(x, training=True).numpy() - before).max())
        assert (change < 1e-4) is flagged, (activation, bias, change)


# --- TF1 graphs: constants, counts, answer 1's collection ----------------------------------------
W_INIT = np.random.default_rng(7).normal(size=(3, 2)).astype(np.float32)


def _graph(kind):
    with tf1.fresh_graph() as graph:
        x = v1.placeholder(tf.float32, [None, 3])
        regularizer = tf.nn.l2_loss if kind.startswith("no_constant") else tf_slim.l2_regularizer(1e-3)
        if kind.startswith("answer1"):
            w = v1.get_variable("w", initializer=W_INIT)
            v1.add_to_collection(v1.GraphKeys.WEIGHTS if kind == "answer1_fixed" else RL, w)
            term = tf_slim.apply_regularization(
                regularizer, None if kind == "answer1_fixed" else v1.get_collection(RL))
        else:
            w = v1.get_variable("w", initializer=W_INIT, regularizer=regularizer)
        data = tf.reduce_mean(tf.square(tf.matmul(x, w)))
        collection = v1.get_collection(RL)
        total = v1.losses.get_regularization_loss
        loss = {"no_constant": lambda: data + 0.01 * sum(collection),
                "no_constant_2": lambda: data + 2.0 * sum(collection),
                "answer0": lambda: data + 0.01 * sum(collection),
                "constant_2": lambda: data + 2.0 * sum(collection),
                "constant_3": lambda: data + 3 * total(),
                "three": lambda: data + total() + total() + total(),
                "mixed": lambda: data + total() + 2 * tf.add_n(collection),
                "on_top": lambda: data + v1.losses.get_regularization_loss() + 1e-4 * tf.nn.l2_loss(w),
                "answer1": lambda: data + term,
                "answer1_fixed": lambda: data + term}[kind]()
    return graph, loss


@pytest.mark.parametrize("kind, codes, label", [
    ("no_constant", [], "0.01 * l2_loss(w)"),
    ("no_constant_2", [], "2 * l2_loss(w)"),
    ("answer0", ["SCALE_APPLIED_TWICE"], "slim l2_regularizer(0.001)"),
    ("constant_2", ["SCALE_APPLIED_TWICE"], "slim l2_regularizer(0.001)"),   # a constant, not counted twice
    ("constant_3", ["SCALE_APPLIED_TWICE"], "slim l2_regularizer(0.001)"),
    ("three", ["REG_COUNTED_N_TIMES"], "slim l2_regularizer(0.001)"),       # added three times
    ("mixed", ["REG_COUNTED_TWICE"], "slim l2_regularizer(0.001)"),
    ("on_top", ["MANUAL_PENALTY_ON_TOP"], "slim l2_regularizer(0.001)"),
    ("answer1", ["WEIGHTS_IN_REG_COLLECTION"], "slim l2_regularizer(0.001)"),
    ("answer1_fixed", [], "slim l2_regularizer(0.001)"),
])
def test_graph_constants_and_counts(kind, codes, label):
    graph, loss = _graph(kind)
    report = doctor.diagnose(graph, loss=loss)
    assert report.codes() == codes
    assert report.row("w:0").regularizer.label() == label
    if kind == "answer0":
        assert report.findings[0].severity == "warning" and "keras l2(5e-06)" in report.findings[0].message
        assert "fold" not in report.findings[0].message
    if kind in ("constant_2", "constant_3"):
        message = report.findings[0].message
        assert report.findings[0].severity == "warning" and f"x {kind[-1]} = keras l2(" in message
    if kind == "three":
        assert "w:0 (3 x)" in report.findings[0].message and report.findings[0].severity == "error"
    if kind == "mixed":
        assert "w:0 (added 2 times, 3 x in all)" in report.findings[0].message
    if kind == "on_top":
        assert "keras l2(5e-05) by hand" in report.findings[0].message
    if kind == "answer1":
        assert "GraphKeys.WEIGHTS" in report.findings[0].message


def test_catalogue_keeps_every_published_code():
    published = ["REG_NOT_IN_LOSS", "REG_COUNTED_TWICE", "SCALE_APPLIED_TWICE", "WEIGHTS_IN_REG_COLLECTION",
                 "CUSTOM_LOOP_MISSES_MODEL_LOSSES", "REGULARIZER_SET_AFTER_BUILD", "SLIM_CONSTANT_NOT_HALVED",
                 "DECAY_AND_L2_ON_SAME_WEIGHTS", "KERNEL_EXCLUDED_FROM_DECAY", "BIAS_PENALIZED",
                 "BATCHNORM_SCALE_PENALIZED", "LOSS_GRADIENT_UNEXPLAINED", "ACTIVITY_NOT_MEASURED",
                 "LOSS_NOT_GIVEN", "NO_REGULARIZATION", "MODEL_NOT_BUILT", "UNKNOWN_MODEL"]
    assert list(doctor.CATALOGUE)[: len(published)] == published
    assert doctor.CATALOGUE["SCALE_APPLIED_TWICE"][0] == "warning"


# --- tf_keras: regularizers set in the constructor are all seen ---------------------------------
LEGACY = textwrap.dedent("""
    import os
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import json
    import reglab
    reglab.setup()
    import tensorflow as tf
    import reglab.doctor as doctor
    K = tf.keras
    r = K.regularizers.l2(0.01)
    m = K.Sequential([K.Input((6, 6, 2)), K.layers.DepthwiseConv2D(3, depthwise_regularizer=r),
                      K.layers.SeparableConv2D(2, 3, depthwise_regularizer=r, pointwise_regularizer=r),
                      K.layers.Reshape((4, 2)), K.layers.GRU(3, recurrent_regularizer=r, bias_regularizer=r)])
    report = doctor.diagnose(m)
    print(json.dumps({"rows": [w.name for w in report.weights if w.regularizer and w.in_loss],
                      "codes": report.codes(), "total": report.total_penalty,
                      "losses": float(tf.add_n(m.losses))}))
""")


@pytest.mark.slow
def test_tf_keras_constructor_regularizers_are_all_seen():
    out = subprocess.run([sys.executable, "-c", LEGACY], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["rows"] == ["depthwise_conv2d/depthwise_kernel:0", "separable_conv2d/depthwise_kernel:0",
                              "separable_conv2d/pointwise_kernel:0", "gru/gru_cell/recurrent_kernel:0",
                              "gru/gru_cell/bias:0"]
    assert result["codes"] == ["BIAS_PENALIZED"]
    assert result["total"] == pytest.approx(result["losses"], rel=1e-5)
