"""The reject gallery: the last NG and REVIEW parts on the operator screen, enlarged on a click,
marked by an engineer as false reject or confirmed defect (issue 17)."""
