"""The ``fintech-eval`` command as a script ``spark-submit`` can run (it takes a file, not a module):

    spark-submit --master yarn --deploy-mode client \
      "$(python -c 'import fintech_eval.records.spark_submit as m; print(m.__file__)')" \
      records derive --engine spark --master none --input /data/records --period 2024 --out derived.json

``--master none`` lets the session take the master and settings spark-submit gives it.
"""

from fintech_eval.cli.app import main

if __name__ == "__main__":
    main()
