"""python -m meeting <command>: the same commands as `flask --app meeting`."""

from flask.cli import FlaskGroup

from meeting import create_app


def main() -> None:
    FlaskGroup(create_app=lambda: create_app(), help="Kurumaza command line.").main(prog_name="python -m meeting")


if __name__ == "__main__":
    main()
