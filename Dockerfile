# The project image: the official Apache Spark image, Python 3.11 and `make dist`'s output (dist/docker/).
# Build it with `make cluster-image` (make dist with --python-prefix /usr, then `docker compose build`);
# after the build nothing is downloaded: `docker compose up` starts from this image alone.
#
# Its Spark must match the project's pyspark (4.2.x, constraints.txt; Delta's jars are built for Spark 4.2).
ARG SPARK_IMAGE=apache/spark:4.2.0-scala2.13-java17-python3-ubuntu
FROM ${SPARK_IMAGE}

USER root
# Python 3.11 at /usr/bin/python3.11: the prefix (/usr) that dist/docker's archive links its bin/python to.
# curl is for the healthchecks.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends python3.11 curl; \
    rm -rf /var/lib/apt/lists/*

# dist/docker: the environment archive (shipped to executors with --archives, as on any cluster), Delta's
# jars, the log4j file. jobs/ and conf/ are what the driver submits.
COPY dist/docker/ /opt/acq/dist/
COPY jobs/ /opt/acq/jobs/
COPY conf/ /opt/acq/conf/
# The driver, which runs in the master's container, uses the same environment unpacked once here.
RUN set -eux; \
    mkdir -p /opt/acq/driver-env /opt/acq/warehouse; \
    tar -xzf /opt/acq/dist/acq-spark-env.tar.gz -C /opt/acq/driver-env; \
    /opt/acq/driver-env/bin/python -c "import acq_spark, pyspark, tensorflow"; \
    chmod -R a+rX /opt/acq; chmod a+rwx /opt/acq/warehouse

ENV ACQ_PYTHON=/opt/acq/driver-env/bin/python \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib
WORKDIR /opt/acq
USER spark
