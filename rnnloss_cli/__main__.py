"""`python -m rnnloss_cli` runs the command line."""

from rnnloss_cli.cli import main

if __name__ == "__main__":
    main()
