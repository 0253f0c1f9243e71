"""`make pods`: the chart's rendered pods run in podman the way kubelet would run them (see __main__)."""
