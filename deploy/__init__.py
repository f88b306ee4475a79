"""Deployment: trained checkpoints to ONNX (+ sidecar), ONNX Runtime INT8, TensorRT engines.

``deploy.export_onnx``
    Checkpoint -> ONNX with dynamic batch and frames, ``onnx.checker``, parity against PyTorch in
    ONNX Runtime, and the JSON sidecar the SDK reads.
``deploy.calibrate``
    Calibration clips (synthetic faces through the SDK's tracker, cached face videos, or a video
    file) and ONNX Runtime INT8 static quantization.
``deploy.build_engine``
    TensorRT 10 engine builder (parser errors, workspace pool, FP16 / INT8 with an entropy
    calibrator and its cache, optimization profiles, timing cache, DLA) and the
    ``nox -s build_engine`` command line.
``deploy.verify``
    Parity of an engine or a quantized model against the ONNX model, and heart-rate accuracy of
    a model against POS.
``deploy.trt_onnx_ops``
    The operators TensorRT's ONNX parser supports, with its source.
"""
