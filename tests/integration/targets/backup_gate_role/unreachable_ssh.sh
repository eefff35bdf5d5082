#!/bin/sh
# The ssh of odd_inventory.yml's localhost: what ssh says and returns when
# nothing listens, so the host is unreachable whether or not the machine has
# an ssh client (or an ssh configuration of its own).
echo "ssh: connect to host localhost port 1: Connection refused" >&2
exit 255
