"""yibao — an open medical-insurance (医保) information platform.

Hospitals' HIS and pharmacies' POS settle against yibao through the national interface
(定点医药机构接口规范); the agency watches the fund T+0 on a columnar replica.
"""

__version__ = "0.1.0"
