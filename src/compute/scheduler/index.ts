/** The compute scheduler and host resource reporting: what the conductor and compute agents import. */
export { Scheduler, type SchedulerOptions } from './scheduler.js';
export { NoValidHost, isNoValidHost, type Removal } from './errors.js';
export type { Destination, FlavorRequest, ImageRequest, RequestSpec, Selection, ServerGroupPolicy, ServerGroupRequest } from './types.js';
export { parseAvailabilityZone, diskGbOf, placementRequest, flavorRequestOf } from './request.js';
export { reportHost, placementAggregateHooks, inventoryOf, traitsOf, DRIVER_TRAITS, type HostReport, type ReportHostOptions } from './host-report.js';
export { DEFAULT_FILTERS, type HostFilter, type FilterContext } from './filters.js';
export { defaultMultipliers, type WeightMultipliers } from './weighers.js';
