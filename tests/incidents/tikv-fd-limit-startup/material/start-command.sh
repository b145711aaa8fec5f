./bin/tikv-server --pd-endpoints="127.0.0.1:2379"  --addr="127.0.0.1:20160"  --data-dir=tikv1  --log-file=tikv1.log
