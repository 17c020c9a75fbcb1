"""The lake IO manager: how the partitioned assets hand each other their outputs, ZIP by ZIP."""

from __future__ import annotations

from functools import partial

import dagster as dg

from phoenix_dagster.graph.partitions import COUNTY, DATE, selected_zips
from phoenix_dagster.graph.zip_steps import Written, ZipFrames
from phoenix_dagster.redact import MaskedRepr
from phoenix_dagster.resources.lake import LakeResource, is_raw
from phoenix_dagster.sources.landing import LandedCollection

# The run id Dagster hands an input whose upstream asset is not part of the run (a step
# materialized on its own from the UI or with an asset selection): dagster/_core/execution/context/output.py.
UPSTREAM_NOT_IN_RUN = "__EPHEMERAL_RUN_ID"


class LakeIOManager(MaskedRepr, dg.ConfigurableIOManager):
    """Stores partitioned assets' outputs in the lake, each ZIP's apart (graph/zip_steps.ZipFrames)."""

    lake: LakeResource

    @staticmethod
    def _partition(context: dg.OutputContext | dg.InputContext) -> tuple[str, str, str]:
        if not context.has_asset_partitions:
            raise dg.Failure(f"{context.asset_key.to_user_string()}: the lake stores partitioned assets only")
        keys = context.asset_partition_key.keys_by_dimension
        return context.asset_key.path[-1], keys[DATE], keys[COUNTY]

    def handle_output(self, context: dg.OutputContext, obj: dict) -> None:
        """Each ZIP's output: described when the step wrote or landed it itself as it went (Written,
        LandedCollection); a frame is written (the run named in its footer), a raw asset's frame
        lands as a collection of this run."""
        asset_name, day, _ = self._partition(context)
        rows, size = 0, 0
        for zip_code, item in sorted(dict.items(obj)):
            if isinstance(item, Written):
                rows, size = rows + item.rows, size + self.lake.storage.size(item.path)
            elif is_raw(asset_name):
                landed = (
                    item
                    if isinstance(item, LandedCollection)
                    else self.lake.land(item, asset_name, day, zip_code, context.run_id)
                )
                rows, size = rows + landed.replies, size + landed.bytes
            else:
                path = self.lake.write(item, asset_name, day, zip_code, run_id=context.run_id)
                rows, size = rows + item.height, size + self.lake.storage.size(path)
        context.add_output_metadata(
            {"dagster/row_count": rows, "bytes": size, "zips_written": ", ".join(sorted(obj)) or "none"}
        )

    def load_input(self, context: dg.InputContext) -> dict:
        """The partition's ZIPs as the upstream step made them in the run that made this input (a
        raw asset's collection of that run, another asset's file that run wrote), for the ZIPs of
        this run; a ZIP that run did not make is left out (its collection failed)."""
        asset_name, day, county = self._partition(context)
        made_in = context.upstream_output.run_id
        zips = selected_zips(context.step_context.dagster_run.tags, self.lake.zips_of(county), county)
        if made_in == UPSTREAM_NOT_IN_RUN:  # the step runs without its upstream: the ZIPs' current outputs
            made, read_run = partial(self.lake.is_materialized, asset_name, day), None
        else:
            made, read_run = (lambda zip_code: self.lake.made_by(asset_name, day, zip_code, made_in)), made_in
        # each read when its ZIP's turn comes
        return ZipFrames({z: partial(self.lake.read, asset_name, day, z, run_id=read_run) for z in zips if made(z)})
