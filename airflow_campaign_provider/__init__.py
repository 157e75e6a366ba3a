"""Apache Airflow provider for Kore.ai campaigns (Campaign Management API v2).

Kept free of imports: Airflow reads this package while parsing DAG files.
"""

__version__ = "0.1.0"
