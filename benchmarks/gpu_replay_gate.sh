#!/usr/bin/env bash
# The replay-chosen scale end to end on a GPU: four one-block-kernel streams at utilisation 0.9
# (gpu_ab/test_servers.py), five runs saved as five sessions, the scales they stored, then the same
# kernel, a 1% slower and a 4% slower one. Usage: bash benchmarks/gpu_replay_gate.sh
exec bash "$(dirname "$0")/gpu_control_gate.sh" gpu_ab/test_servers.py 400_000 400_000 404_000 416_000
