#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine for the tests (root, Debian):
#   scripts/slurm.sh start DIR    installs slurm-wlm and munge if missing, writes
#                                 /etc/slurm/slurm.conf (state and logs under DIR),
#                                 starts munged, slurmctld and slurmd, waits for the node
#   scripts/slurm.sh stop DIR
# The steps are those of ../shared/specs/cluster-notes.md.
set -euo pipefail
action=${1:?start|stop}
dir=${2:?a folder for the cluster state}
case $action in
  start)
    if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
      apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >&2
    fi
    mkdir -p "$dir"/{state,spool,log} /run/munge /etc/slurm
    [ -f /etc/munge/munge.key ] || mungekey --create >&2 2>/dev/null || /usr/sbin/create-munge-key -f >&2
    chown -R munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
    pgrep -x munged >/dev/null || runuser -u munge -- munged --force
    munge -n | unmunge >/dev/null
    host=$(hostname)
    cpus=$(nproc)
    mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 ))
    cat > /etc/slurm/slurm.conf <<CONF
ClusterName=anolab-ci
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    slurmctld
    slurmd
    for _ in $(seq 60); do
      if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
        echo "slurm: node $host up" >&2
        exit 0
      fi
      sleep 1
    done
    echo "slurm: the node did not come up; logs in $dir/log" >&2
    exit 1
    ;;
  stop)
    pkill -x slurmd || true
    pkill -x slurmctld || true
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
