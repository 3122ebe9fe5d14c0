"""Recipe settings… in the live window: the engineer edits the selected recipe's alarm rules,
false-reject target and training defaults; the change is audited (old and new of the changed
settings, and why) and saved off the GUI thread. See :mod:`app.recipe_settings.dialog`."""
