#!/usr/bin/env bash
# Regenerates Sources/ONNXProto/onnx.pb.swift from scripts/onnx.proto (ONNX's own onnx.proto,
# Apache-2.0, copied from the onnx 1.23.2 Python package). Run by hand, never in CI: it builds
# swift-protobuf's protoc-gen-swift plugin (about 10-15 minutes on 2 cores) in a scratch folder
# outside the repo. The plugin's version must be the one Package.swift depends on (1.39.0), or
# the generated code may not compile against the library.
#
# Usage: bash scripts/gen-onnx-proto.sh [SCRATCH_DIR]   (default /tmp/protoc-gen-swift)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.39.0
SCRATCH=${1:-/tmp/protoc-gen-swift}
# The machine's package mirror of github.com/apple/swift-protobuf (git reads github addresses from it).
SOURCE=${SWIFT_PROTOBUF_GIT:-/opt/swift-packages/apple/swift-protobuf.git}

command -v protoc >/dev/null || apt-get install -y protobuf-compiler
if [ ! -x "$SCRATCH/.build/release/protoc-gen-swift" ]; then
    [ -d "$SCRATCH/.git" ] || git clone --quiet "$SOURCE" "$SCRATCH"
    git -C "$SCRATCH" checkout --quiet "$VERSION"
    (cd "$SCRATCH" && nice -n 19 swift build -c release --product protoc-gen-swift)
fi
mkdir -p Sources/ONNXProto
protoc --plugin=protoc-gen-swift="$SCRATCH/.build/release/protoc-gen-swift" \
    --swift_opt=Visibility=Public --swift_out=Sources/ONNXProto -I scripts scripts/onnx.proto
echo "wrote Sources/ONNXProto/onnx.pb.swift ($(wc -l < Sources/ONNXProto/onnx.pb.swift) lines) with protoc $(protoc --version | cut -d' ' -f2), protoc-gen-swift $VERSION"
