# The project image: a Spark 4.2 base with Java 17, Python 3.11 and `make dist`'s output (dist/docker/).
# Build it with `make cluster-image`: the base is the local one (acq_spark/cluster/docker/base_image.py,
# Debian bookworm by debootstrap + the pinned pyspark's Spark at /opt/spark), built once on this machine;
# where a registry is reachable, `make cluster-image SPARK_IMAGE=apache/spark:4.2.0-scala2.13-java17-python3-ubuntu`
# (the default of a plain `docker compose build`). After the build nothing is downloaded.
#
# Its Spark must match the project's pyspark (4.2.x, constraints.txt; Delta's jars are built for Spark 4.2).
ARG SPARK_IMAGE=apache/spark:4.2.0-scala2.13-java17-python3-ubuntu
FROM ${SPARK_IMAGE}

USER root
# Python 3.11 at /usr/bin/python3.11: the prefix (/usr) that dist/docker's archive links its bin/python to.
# The local base has it (bookworm's python3); the official image gets it from its distribution.
RUN if ! command -v python3.11 >/dev/null; then \
        set -eux; apt-get update; apt-get install -y --no-install-recommends python3.11; rm -rf /var/lib/apt/lists/*; \
    fi

# dist/docker: the environment archive (shipped to executors with --archives, as on any cluster), Delta's and
# s3a's jars, the log4j file. dist/s3server: moto's server (pip --target), the compose's S3 service.
# jobs/ and conf/ are what the driver submits.
COPY dist/s3server/ /opt/acq/s3server/
COPY dist/docker/ /opt/acq/dist/
COPY jobs/ /opt/acq/jobs/
COPY conf/ /opt/acq/conf/
# The driver, which runs in the master's container, uses the same environment unpacked once here.
RUN set -eux; \
    mkdir -p /opt/acq/driver-env; \
    tar -xzf /opt/acq/dist/acq-spark-env.tar.gz -C /opt/acq/driver-env; \
    /opt/acq/driver-env/bin/python -c "import acq_spark, pyspark, tensorflow"; \
    PYTHONPATH=/opt/acq/s3server python3.11 -c "import moto.server"; \
    chmod -R a+rX /opt/acq/driver-env  # only here: a chmod of the copied files would copy them into this layer

ENV HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib
WORKDIR /opt/acq
USER spark
