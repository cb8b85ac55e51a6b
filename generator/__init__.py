"""tinyms-new: load and validate specs, render standardized projects."""
