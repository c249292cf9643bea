"""What the deploy checks share: where things are, this run's names, and docker /
rabbitmqctl as subprocesses."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
IMAGE = os.environ.get("DEPLOY_IMAGE")
VHOST = os.environ.get("DEPLOY_VHOST", "deploy_check")
PREFIX = f"{VHOST}_"
DATABASE = os.environ.get("DEPLOY_DATABASE", "veteran_deploy_check")
ADMIN_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
USERS = ("registry", "loans", "jobs", "training", "followup", "vetctl", "operations")


def run(*args, timeout=120, check=True):
    """A command's CompletedProcess (text); raises with its output when it fails."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done


def docker(*args, **kwargs):
    return run("docker", *args, **kwargs)


def rabbitmqctl(*args, check=True):
    return run("rabbitmqctl", "-q", *args, timeout=60, check=check)
