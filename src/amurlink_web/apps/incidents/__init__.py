"""A park's incident and disease books on the platform (issue #19): forms for contributors,
a list at each reader's protection level (:func:`amurlink.incidents.protect.release_incidents`).
"""
