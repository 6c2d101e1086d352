"""Access and equity: demand areas, travel times, accessibility measures, where to add capacity.

The kernels are pure functions over numpy arrays (`areas`, `travel`, `measures`,
`siting`); files and GeoNames are read at the edges (`area_file`, `geonames_areas`,
`matrix_file`); `report` puts one network's answer together for the command line.
"""
