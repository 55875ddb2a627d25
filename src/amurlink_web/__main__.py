"""``python -m amurlink_web migrate`` etc. (the project's manage.py)."""

from amurlink_web import main

main()
