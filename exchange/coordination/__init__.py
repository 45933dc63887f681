"""National Coordinators: sign-off and send-back of harmonized quarters, publication consent."""
