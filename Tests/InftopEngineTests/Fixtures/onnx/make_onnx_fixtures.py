#!/usr/bin/env python3
"""Writes the ONNX fixtures of ONNXImportTests into this folder, each with ONNX Runtime's output
for a fixed input (`<name>.json`: input shape and values, output shape and values), so the tests
can check that inftop's import computes what ORT computes on the very same file.

  mlp.onnx         torch.onnx.export (dynamo, opset 17) of Linear(12,16)-ReLU-Linear(16,8)-ReLU-Linear(8,4)
  cnn.onnx         torch.onnx.export (dynamo, opset 17) of conv3x3x4 pad 1-ReLU-maxpool 2-conv3x3x6 pad 1-ReLU-
                   maxpool 2-flatten-Linear(54,10)-ReLU-Linear(10,5), input [B, 1, 12, 12]
  mlp_legacy.onnx  the same MLP through the TorchScript exporter (Gemm nodes), when this torch has it
  fold.onnx        shape arithmetic to fold at load: Shape, Gather, Unsqueeze, Concat, Reshape of a
                   runtime tensor, and a bias made of Constant, Cast, Range and Expand (opset 18)
  external.onnx    a Gemm whose weights live in external.onnx.data (location, offset, length)
  external_bad_offset.onnx   the same graph, its weight's offset past the end of external.onnx.data
  external_missing.onnx      the same graph, its weights in a file that does not exist
  unsupported.onnx a graph with a Softsign node named "odd_softsign"
  tiny_bert.onnx   torch.onnx.export (dynamo, opset 18) of a random 2-layer BERT (hidden 16, 4 heads, FFN 32,
                   vocab 64, 32 positions) with the peers' mean pooling + L2 normalisation inside (their
                   minilm_common Embedder); tiny_bert.json holds token batches (ids, mask) and ORT's
                   embeddings of each
  tiny_bert_int8.onnx, tiny_bert_int8_pc.onnx
                   onnxruntime.quantization.quantize_dynamic of tiny_bert.onnx (QInt8 weights, per tensor /
                   per_channel=True; the peers' MiniLM settings); tiny_bert_int8.json holds, per sequence run
                   alone, ORT's embedding from each file and from tiny_bert.onnx (fp32)
  tiny_bert_int8_bad_weight.onnx   tiny_bert_int8.onnx with its first MatMulInteger's weight replaced by
                   its quantized activation (a non-constant weight)
  tiny_bert_int8_unsupported.onnx  tiny_bert_int8.onnx with its first MatMulInteger turned into a
                   QLinearMatMul named "odd_qlinear"

Inputs: numpy default_rng(seed 0) standard normal, float32, batch 3.
Usage: /tmp/inftop-peers-venv/bin/python make_onnx_fixtures.py [int8]   (writes beside itself; `int8`: only
the tiny_bert_int8* files, from the committed tiny_bert.onnx)
"""
import json
import os
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 3


def path(name):
    return os.path.join(HERE, name)


def record(name, x):
    """Runs `name`.onnx in ORT on `x` and writes `name`.json."""
    sess = ort.InferenceSession(path(name + ".onnx"), providers=["CPUExecutionProvider"])
    y = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    with open(path(name + ".json"), "w") as f:
        json.dump({"input_shape": list(x.shape), "input": [float(v) for v in x.ravel()],
                   "output_shape": list(y.shape), "output": [float(v) for v in y.ravel()]}, f)
        f.write("\n")


def mlp():
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 8), torch.nn.ReLU(),
                               torch.nn.Linear(8, 4)).eval()


def cnn():
    torch.manual_seed(2)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(54, 10), torch.nn.ReLU(), torch.nn.Linear(10, 5)).eval()


def export_torch(model, x, name, dynamo=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(model, (torch.from_numpy(x),), path(name + ".onnx"), input_names=["x"], output_names=["y"],
                              dynamic_shapes={"input": {0: torch.export.Dim("batch")}}, dynamo=True, opset_version=17,
                              external_data=False)
        else:
            torch.onnx.export(model, (torch.from_numpy(x),), path(name + ".onnx"), input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "batch"}}, dynamo=False, opset_version=17)


def save(graph, name, opset=17):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_onnx_fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path(name + ".onnx"))
    return model


def fold():
    """y = Relu(Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])) · W + bias), bias = Expand(Cast(Range(…)))."""
    rng = np.random.default_rng(5)
    w = rng.standard_normal((18, 4)).astype(np.float32)
    nodes = [
        helper.make_node("Shape", ["x"], ["x_shape"], name="shape_of_x"),
        helper.make_node("Constant", [], ["zero"], name="const_zero", value=numpy_helper.from_array(np.array(0, np.int64))),
        helper.make_node("Gather", ["x_shape", "zero"], ["batch"], name="gather_batch", axis=0),
        helper.make_node("Constant", [], ["axes0"], name="const_axes", value=numpy_helper.from_array(np.array([0], np.int64))),
        helper.make_node("Unsqueeze", ["batch", "axes0"], ["batch1"], name="unsqueeze_batch"),
        helper.make_node("Constant", [], ["minus1"], name="const_minus1", value=numpy_helper.from_array(np.array([-1], np.int64))),
        helper.make_node("Concat", ["batch1", "minus1"], ["target"], name="concat_target", axis=0),
        helper.make_node("Reshape", ["x", "target"], ["flat"], name="reshape_flat"),
        helper.make_node("MatMul", ["flat", "W"], ["mm"], name="matmul"),
        # bias [4] = float(Range(start 1, limit 9, delta 2)) = [1, 3, 5, 7] / 10, expanded to [4].
        helper.make_node("Constant", [], ["start"], name="const_start", value=numpy_helper.from_array(np.array(1, np.int64))),
        helper.make_node("Constant", [], ["limit"], name="const_limit", value=numpy_helper.from_array(np.array(9, np.int64))),
        helper.make_node("Constant", [], ["delta"], name="const_delta", value=numpy_helper.from_array(np.array(2, np.int64))),
        helper.make_node("Range", ["start", "limit", "delta"], ["steps"], name="range_bias"),
        helper.make_node("Cast", ["steps"], ["steps_f"], name="cast_bias", to=TensorProto.FLOAT),
        helper.make_node("Constant", [], ["tenth"], name="const_tenth", value=numpy_helper.from_array(np.array([0.1], np.float32))),
        helper.make_node("Mul", ["steps_f", "tenth"], ["bias_small"], name="scale_bias"),
        helper.make_node("Constant", [], ["four"], name="const_four", value=numpy_helper.from_array(np.array([4], np.int64))),
        helper.make_node("Expand", ["bias_small", "four"], ["bias"], name="expand_bias"),
        helper.make_node("Add", ["mm", "bias"], ["pre"], name="add_bias"),
        helper.make_node("Relu", ["pre"], ["y"], name="relu_out"),
    ]
    graph = helper.make_graph(nodes, "fold", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2, 3, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
                              initializer=[numpy_helper.from_array(w, "W")])
    save(graph, "fold", opset=18)


def gemm_graph(name, w, b):
    return helper.make_graph(
        [helper.make_node("Gemm", ["x", "W", "b"], ["y"], name="gemm_ext", transB=1)], name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", w.shape[1]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", w.shape[0]])],
        initializer=[numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "b")])


def set_external(tensor, location, offset, length):
    tensor.data_location = TensorProto.EXTERNAL
    del tensor.external_data[:]
    for k, v in (("location", location), ("offset", str(offset)), ("length", str(length))):
        e = tensor.external_data.add()
        e.key, e.value = k, v
    tensor.ClearField("raw_data")


def external():
    """Weights W [6, 5] and b [6] in external.onnx.data: W at offset 0, b after 8 bytes of padding."""
    rng = np.random.default_rng(7)
    w = rng.standard_normal((6, 5)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    blob = w.tobytes() + b"\0" * 8 + b.tobytes()
    with open(path("external.onnx.data"), "wb") as f:
        f.write(blob)
    for name, location, w_offset in (("external", "external.onnx.data", 0),
                                     ("external_bad_offset", "external.onnx.data", len(blob) - 16),
                                     ("external_missing", "no_such_weights.onnx.data", 0)):
        model = helper.make_model(gemm_graph(name, w, b), opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        wt, bt = model.graph.initializer
        set_external(wt, location, w_offset, w.nbytes)
        set_external(bt, location, w.nbytes + 8, b.nbytes)
        with open(path(name + ".onnx"), "wb") as f:
            f.write(model.SerializeToString())


def unsupported():
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"], name="first_relu"),
         helper.make_node("Softsign", ["r"], ["y"], name="odd_softsign")], "unsupported",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])])
    save(graph, "unsupported")


def tiny_bert():
    import transformers
    torch.manual_seed(3)
    config = transformers.BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=32, max_position_embeddings=32, hidden_act="gelu")
    bert = transformers.BertModel(config, add_pooling_layer=False).eval()

    class Embedder(torch.nn.Module):  # the peers' (minilm_common.load_torch_embedder)
        def __init__(self, b):
            super().__init__()
            self.bert = b

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(e, p=2.0, dim=1)

    model = Embedder(bert).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    ids = torch.tensor([[2, 10, 11, 12, 3, 0], [2, 20, 21, 22, 23, 3]], dtype=torch.int64)
    mask = torch.tensor([[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]], dtype=torch.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        B, S = torch.export.Dim("batch"), torch.export.Dim("seq", max=32)
        torch.onnx.export(model, (ids, mask, torch.zeros_like(ids)), path("tiny_bert.onnx"), input_names=names,
                          output_names=["sentence_embedding"], dynamic_shapes={n: {0: B, 1: S} for n in names},
                          dynamo=True, opset_version=18, external_data=False)
    sess = ort.InferenceSession(path("tiny_bert.onnx"), providers=["CPUExecutionProvider"])
    cases = []
    for rows in ([[2, 10, 11, 12, 3], [2, 20, 21, 3]], [[2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 3]], [[2, 63, 1, 40, 3]] * 3):
        n = max(len(r) for r in rows)
        x = np.array([r + [0] * (n - len(r)) for r in rows], np.int64)
        m = np.array([[1] * len(r) + [0] * (n - len(r)) for r in rows], np.int64)
        y = sess.run(None, {"input_ids": x, "attention_mask": m, "token_type_ids": np.zeros_like(x)})[0]
        cases.append({"sequences": rows, "embeddings": [[float(v) for v in e] for e in y]})
    with open(path("tiny_bert.json"), "w") as f:
        json.dump({"hidden": 16, "layers": 2, "heads": 4, "cases": cases}, f)
        f.write("\n")


def tiny_bert_int8():
    from onnxruntime.quantization import QuantType, quantize_dynamic
    for name, pc in (("tiny_bert_int8", False), ("tiny_bert_int8_pc", True)):
        quantize_dynamic(path("tiny_bert.onnx"), path(name + ".onnx"), weight_type=QuantType.QInt8, per_channel=pc, reduce_range=False)
    sessions = {n: ort.InferenceSession(path(n + ".onnx"), providers=["CPUExecutionProvider"])
                for n in ("tiny_bert", "tiny_bert_int8", "tiny_bert_int8_pc")}
    cases = []
    for row in ([2, 10, 11, 12, 3], [2, 20, 21, 3], [2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 3], [2, 63, 1, 40, 3], [2, 30] + list(range(31, 60)) + [3]):
        x = np.array([row], np.int64)
        feed = {"input_ids": x, "attention_mask": np.ones_like(x), "token_type_ids": np.zeros_like(x)}
        cases.append({"sequence": row, **{n.replace("tiny_bert", "ort").replace("ort_int8", "int8") if n != "tiny_bert" else "fp32":
                                          [float(v) for v in s.run(None, feed)[0][0]] for n, s in sessions.items()}})
    with open(path("tiny_bert_int8.json"), "w") as f:
        json.dump({"hidden": 16, "layers": 2, "cases": cases}, f)
        f.write("\n")
    m = onnx.load(path("tiny_bert_int8.onnx"))
    first = next(n for n in m.graph.node if n.op_type == "MatMulInteger")
    first.input[1] = first.input[0]
    onnx.save(m, path("tiny_bert_int8_bad_weight.onnx"))
    m = onnx.load(path("tiny_bert_int8.onnx"))
    first = next(n for n in m.graph.node if n.op_type == "MatMulInteger")
    first.op_type, first.name = "QLinearMatMul", "odd_qlinear"
    onnx.save(m, path("tiny_bert_int8_unsupported.onnx"))


def main():
    if sys.argv[1:] == ["int8"]:
        tiny_bert_int8()
        return
    rng = np.random.default_rng(0)
    x_mlp = rng.standard_normal((BATCH, 12)).astype(np.float32)
    x_cnn = rng.standard_normal((BATCH, 1, 12, 12)).astype(np.float32)
    export_torch(mlp(), x_mlp, "mlp")
    record("mlp", x_mlp)
    export_torch(cnn(), x_cnn, "cnn")
    record("cnn", x_cnn)
    try:
        export_torch(mlp(), x_mlp, "mlp_legacy", dynamo=False)
        record("mlp_legacy", x_mlp)
    except Exception as e:  # the TorchScript exporter is gone from this torch
        print("mlp_legacy skipped:", repr(e)[:200])
    fold()
    record("fold", rng.standard_normal((BATCH, 2, 3, 3)).astype(np.float32))
    external()
    record("external", rng.standard_normal((BATCH, 5)).astype(np.float32))
    unsupported()
    tiny_bert()
    tiny_bert_int8()
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".onnx"):
            m = onnx.load(path(name), load_external_data=False)
            print(f"{name}: opset {m.opset_import[0].version}, ops {sorted({n.op_type for n in m.graph.node})}")


if __name__ == "__main__":
    main()
