#!/bin/sh
# Keeps libpfi's dependencies pointing one way (tools/layers.py, README
# "The library's layers"): the include graph of the sources and the call
# graph of this build's objects.
exec python3 "${srcdir:-.}/tools/layers.py" "${srcdir:-.}" lib
