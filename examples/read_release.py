"""The README tour's step 7: read the released quarter of Central Asia with sdmx1 (pip install
sdmx1); suppressed cells come with their CONF_STATUS and no value."""
import os

import sdmx

url = os.environ.get("MMX_URL", "http://127.0.0.1:8000") + "/sdmx"
sdmx.add_source({"id": "MMX", "url": url, "name": "Mixed-Movement Statistics Exchange"})
message = sdmx.Client("MMX").data("DF_MIXED_MOVEMENTS_Q", key={"REF_AREA": "CENTRAL_ASIA"},
                                  params={"startPeriod": "2026-Q2"})
print(sdmx.to_pandas(message.data[0], attributes="o").to_string(max_rows=20))
