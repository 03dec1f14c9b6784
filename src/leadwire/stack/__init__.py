"""How leadwire runs: `up` (everything in one process, provisioned for a demo), `serve` and
`worker` (scale-out), and the demo's lead sender and report. See run.py."""
